using System.Text;
using Aggregator.Web.Upstream;

namespace Aggregator.Web.Features.Chat;

/// <summary>What a caller needs to start a generation: who, where, and the request for the router.</summary>
public sealed record GenerationStart(string UserId, Guid ConversationId, long UserMessageId, long MessageId, string? ModelName, ChatRequest Request);

/// <summary>
/// One assistant reply being produced. Owned by <see cref="GenerationManager"/>, not by a
/// connection: the text so far, its sequence number, and a bounded buffer of recent deltas that
/// reconnecting clients resume from. (On several nodes the buffer would live in a Redis stream;
/// here it is in memory, and a resume that misses it gets the full text instead.)
/// </summary>
public sealed class Generation(GenerationStart start, int bufferCapacity)
{
    readonly Lock gate = new();
    readonly StringBuilder content = new();
    readonly StringBuilder reasoning = new();
    readonly Queue<TokenDelta> recent = new();
    int seq;

    public GenerationStart Start { get; } = start;
    public CancellationTokenSource Cancellation { get; } = new();
    /// <summary>True when the user pressed stop (as opposed to the server shutting down).</summary>
    public bool StopRequested { get; private set; }
    public string? ModelName { get; set; } = start.ModelName;
    public Task Completion { get; set; } = Task.CompletedTask;

    public void Stop()
    {
        StopRequested = true;
        Cancellation.Cancel();
    }

    public TokenDelta Append(string text)
    {
        lock (gate)
        {
            content.Append(text);
            var delta = new TokenDelta(Start.ConversationId, Start.MessageId, ++seq, text);
            recent.Enqueue(delta);
            while (recent.Count > bufferCapacity) recent.Dequeue();
            return delta;
        }
    }

    public void AppendReasoning(string text)
    {
        lock (gate) reasoning.Append(text);
    }

    public (string Content, string? Reasoning, int Seq) Snapshot()
    {
        lock (gate) return (content.ToString(), reasoning.Length == 0 ? null : reasoning.ToString(), seq);
    }

    /// <summary>Deltas after <paramref name="afterSeq"/> when the buffer still holds them all, otherwise the full text.</summary>
    public ResumeResult Resume(int afterSeq)
    {
        lock (gate)
        {
            if (afterSeq >= seq) return new ResumeResult(true, [], null, seq, null);
            if (afterSeq >= 0 && recent.Count > 0 && recent.Peek().Seq <= afterSeq + 1)
                return new ResumeResult(true, recent.Where(d => d.Seq > afterSeq).ToList(), null, seq, null);
            return new ResumeResult(true, [], content.ToString(), seq, null);
        }
    }
}
