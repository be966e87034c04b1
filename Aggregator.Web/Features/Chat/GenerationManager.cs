using System.Collections.Concurrent;
using System.Globalization;
using Aggregator.Web.Cluster;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// The generations running on this node, and the cluster-wide view of every other one. A reply row
/// names its owner node (<see cref="Message.OwnerNode"/>); the database allows one streaming reply per
/// conversation; Stop reaches the owner over the <see cref="IClusterBus"/>; a resume on another node reads
/// the <see cref="IGenerationStream"/> copy. Closing the page does not stop a generation; Stop does.
/// </summary>
public sealed partial class GenerationManager(
    GenerationPipeline pipeline,
    IDbContextFactory<AppDbContext> dbFactory,
    IClusterBus bus,
    IGenerationStream stream,
    IOptions<ChatOptions> options,
    ILogger<GenerationManager> log) : IHostedService
{
    const string StopTopic = "generation-stop";
    readonly ConcurrentDictionary<long, Generation> byMessage = new();

    public NodeIdentity Node => bus.Node;

    /// <summary>Replies being written on this node (the active-generations gauge).</summary>
    public int RunningCount => byMessage.Count;

    /// <summary>The live generation of a message on this node, only for its owner.</summary>
    public Generation? Find(long messageId, string userId) =>
        byMessage.TryGetValue(messageId, out var g) && g.Start.UserId == userId ? g : null;

    /// <summary>Runs a reply whose row (status streaming, owned by this node) is already written.</summary>
    public void Start(GenerationStart start)
    {
        var generation = new Generation(start, options.Value.ResumeBufferDeltas);
        byMessage[start.MessageId] = generation;
        generation.Completion = Task.Run(() => pipeline.RunAsync(generation, () => byMessage.TryRemove(start.MessageId, out _)));
    }

    /// <summary>Whether the conversation has a reply being written, on any node.</summary>
    public async Task<bool> IsStreamingAsync(Guid conversationId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Messages.AnyAsync(m => m.ConversationId == conversationId && m.Status == MessageStatus.Streaming, cancellationToken);
    }

    /// <summary>
    /// Stops the conversation's running replies (one, or a compare's columns) wherever they run (the partial text is kept,
    /// status stopped). True when the caller's conversation has a reply streaming. Finds deleted conversations too, so a
    /// delete stops its replies.
    /// </summary>
    public async Task<bool> StopAsync(Guid conversationId, string userId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var messageIds = await db.Messages
            .Where(m => m.ConversationId == conversationId && m.Status == MessageStatus.Streaming && m.Conversation!.UserId == userId)
            .Select(m => m.Id).ToListAsync(cancellationToken);
        foreach (var id in messageIds)
            if (!StopHere(id, userId)) await bus.PublishAsync(StopTopic, string.Create(CultureInfo.InvariantCulture, $"{id}\n{userId}"));
        return messageIds.Count > 0;
    }

    bool StopHere(long messageId, string userId)
    {
        if (Find(messageId, userId) is not { } g) return false;
        g.Stop();
        return true;
    }

    Task OnStopMessage(ClusterMessage message)
    {
        var parts = message.Payload.Split('\n', 2);
        if (parts.Length == 2 && long.TryParse(parts[0], CultureInfo.InvariantCulture, out var id) && StopHere(id, parts[1])) LogStoppedFromElsewhere(id, message.FromNode);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Resume of a reply streaming on another node: the pushes after <paramref name="afterSeq"/> from the
    /// stream copy; when that no longer reaches back far enough (or Redis is away), the saved text plus
    /// what the copy holds after it.
    /// </summary>
    public async Task<ResumeResult> ResumeElsewhereAsync(Message saved, int afterSeq, CancellationToken cancellationToken)
    {
        var after = await stream.ReadAfterAsync(saved.ConversationId, saved.Id, afterSeq, cancellationToken);
        if (after is [var first, ..] && first.Seq == afterSeq + 1) return new ResumeResult(true, after, null, after[^1].Seq, null);
        if (saved.Seq <= afterSeq) return new ResumeResult(true, [], null, afterSeq, null); // nothing newer to give; live pushes follow

        var tail = await stream.ReadAfterAsync(saved.ConversationId, saved.Id, saved.Seq, cancellationToken);
        if (tail is [var next, ..] && next.Seq == saved.Seq + 1)
            return new ResumeResult(true, [], saved.Content + string.Concat(tail.Select(d => d.Text)), tail[^1].Seq, null);
        return new ResumeResult(true, [], saved.Content, saved.Seq, null);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        bus.Subscribe(StopTopic, OnStopMessage);
        return Task.CompletedTask;
    }

    /// <summary>Graceful stop: this node's replies end as interrupted with their text saved, before its lease is released.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var running = byMessage.Values.ToList();
        foreach (var g in running) await g.Cancellation.CancelAsync();
        await Task.WhenAll(running.Select(g => g.Completion)).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    [LoggerMessage(LogLevel.Information, "Generation {MessageId} stopped at the request of node {Node}")]
    partial void LogStoppedFromElsewhere(long messageId, string node);
}
