using System.Text;
using Aggregator.Web.Upstream;

namespace Aggregator.Web.Features.Chat;

/// <summary>What a caller needs to start a generation: who, where, and the request for the router.</summary>
public sealed record GenerationStart(string UserId, Guid ConversationId, long UserMessageId, long MessageId, string? ModelName, ChatRequest Request);

/// <summary>
/// One assistant reply being produced. Owned by <see cref="GenerationManager"/>, not by a
/// connection: the text received so far, the part of it already pushed (numbered by push, not by
/// token: one push carries whatever arrived during a coalescing window), and a bounded buffer of
/// recent pushes that reconnecting clients on this node resume from. Other nodes resume from the
/// <see cref="IGenerationStream"/> copy.
/// </summary>
public sealed class Generation(GenerationStart start, int bufferCapacity)
{
    readonly Lock gate = new();
    readonly StringBuilder content = new();
    readonly StringBuilder reasoning = new();
    readonly Queue<TokenDelta> recent = new();
    int seq, pushedLength;

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

    /// <summary>Text read from upstream; it reaches clients with the next <see cref="TakePush"/>.</summary>
    public void Append(string text)
    {
        lock (gate) content.Append(text);
    }

    /// <summary>Everything received since the last push, as the next numbered push; null when nothing is new.</summary>
    public TokenDelta? TakePush()
    {
        lock (gate)
        {
            if (pushedLength == content.Length) return null;
            var delta = new TokenDelta(Start.ConversationId, Start.MessageId, ++seq, content.ToString(pushedLength, content.Length - pushedLength));
            pushedLength = content.Length;
            recent.Enqueue(delta);
            while (recent.Count > bufferCapacity) recent.Dequeue();
            return delta;
        }
    }

    public void AppendReasoning(string text)
    {
        lock (gate) reasoning.Append(text);
    }

    /// <summary>The pushed text and its sequence number (what clients have been sent, so what a page or a save may show).</summary>
    public (string Content, string? Reasoning, int Seq) Snapshot()
    {
        lock (gate) return (content.ToString(0, pushedLength), reasoning.Length == 0 ? null : reasoning.ToString(), seq);
    }

    /// <summary>Deltas after <paramref name="afterSeq"/> when the buffer still holds them all, otherwise the full text.</summary>
    public ResumeResult Resume(int afterSeq)
    {
        lock (gate)
        {
            if (afterSeq >= seq) return new ResumeResult(true, [], null, seq, null);
            if (afterSeq >= 0 && recent.Count > 0 && recent.Peek().Seq <= afterSeq + 1)
                return new ResumeResult(true, recent.Where(d => d.Seq > afterSeq).ToList(), null, seq, null);
            return new ResumeResult(true, [], content.ToString(0, pushedLength), seq, null);
        }
    }
}
