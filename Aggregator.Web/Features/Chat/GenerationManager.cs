using System.Collections.Concurrent;
using System.Diagnostics;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// Owns every running generation on this node. A generation runs on its own task, streams from
/// the router, pushes each delta (in order, numbered) and throttled rendered snapshots to all of
/// the owner's connections, persists the text at least every <see cref="ChatOptions.PersistIntervalMs"/>,
/// and writes the final state. Closing the page does not stop it; <see cref="Stop"/> does.
/// At start-up, replies a dead process left "streaming" are marked interrupted.
/// </summary>
public sealed partial class GenerationManager(
    IServiceScopeFactory scopes,
    IDbContextFactory<AppDbContext> dbFactory,
    IHubContext<ChatHub, IChatClient> hub,
    MarkdownRenderer markdown,
    IOptions<ChatOptions> options,
    ILogger<GenerationManager> log) : IHostedService
{
    readonly ConcurrentDictionary<long, Generation> byMessage = new();
    readonly ConcurrentDictionary<Guid, Generation> byConversation = new();

    public bool IsStreaming(Guid conversationId) => byConversation.ContainsKey(conversationId);

    /// <summary>The live generation of a message, only for its owner.</summary>
    public Generation? Find(long messageId, string userId) =>
        byMessage.TryGetValue(messageId, out var g) && g.Start.UserId == userId ? g : null;

    public bool TryStart(GenerationStart start)
    {
        var generation = new Generation(start, options.Value.ResumeBufferDeltas);
        if (!byConversation.TryAdd(start.ConversationId, generation)) return false;
        byMessage[start.MessageId] = generation;
        generation.Completion = Task.Run(() => RunAsync(generation));
        return true;
    }

    /// <summary>Stops the conversation's running reply; the partial text is kept (status stopped).</summary>
    public bool Stop(Guid conversationId, string userId)
    {
        if (!byConversation.TryGetValue(conversationId, out var g) || g.Start.UserId != userId) return false;
        g.Stop();
        return true;
    }

    async Task RunAsync(Generation g)
    {
        var start = g.Start;
        var began = Stopwatch.GetTimestamp();
        int? ttft = null;
        TokenUsage? usage = null;
        string? finish = null, error = null;
        RouteInfo? route = null;
        var status = MessageStatus.Complete;
        using var tickerStop = new CancellationTokenSource();
        var ticker = TickAsync(g, tickerStop.Token);

        await SafeSendAsync(g, c => c.GenerationStarted(new GenerationStartedEvent(start.ConversationId, start.UserMessageId, start.MessageId, g.ModelName)));
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var router = scope.ServiceProvider.GetRequiredService<IChatRouter>();
            await foreach (var e in router.StreamAsync(start.Request, g.Cancellation.Token).WithCancellation(g.Cancellation.Token))
            {
                switch (e)
                {
                    case RouteStarted r:
                        route = r.Route;
                        g.ModelName = r.Route.UpstreamModelId;
                        break;
                    case ContentDelta { Text.Length: > 0 } d:
                        ttft ??= ElapsedMs(began);
                        var delta = g.Append(d.Text);
                        await SafeSendAsync(g, c => c.Delta(delta));
                        break;
                    case ReasoningDelta r:
                        ttft ??= ElapsedMs(began);
                        g.AppendReasoning(r.Text);
                        break;
                    case UsageDelta u:
                        usage = u.Usage;
                        break;
                    case FinishDelta f:
                        finish = f.FinishReason;
                        break;
                    case StreamCompleted c:
                        usage = c.Usage;
                        finish = c.FinishReason;
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (g.Cancellation.IsCancellationRequested)
        {
            status = g.StopRequested ? MessageStatus.Stopped : MessageStatus.Interrupted;
            finish ??= g.StopRequested ? "stopped" : null;
            if (!g.StopRequested) error = "The server stopped while this reply was being written.";
        }
        catch (RouterException ex)
        {
            // After the first token the router never retries: the partial reply stays, marked interrupted.
            status = ex.Error == RouterError.Interrupted ? MessageStatus.Interrupted : MessageStatus.Failed;
            error = ex.Message;
            finish ??= "error";
            LogRouterFailure(start.MessageId, ex.Error);
        }
        catch (Exception ex)
        {
            status = MessageStatus.Failed;
            error = "The reply failed unexpectedly. Try again.";
            finish ??= "error";
            LogUnexpectedFailure(ex, start.MessageId);
        }

        await tickerStop.CancelAsync();
        await ticker;
        await FinishAsync(g, status, route, usage, finish, error, ttft, ElapsedMs(began));
    }

    async Task FinishAsync(Generation g, MessageStatus status, RouteInfo? route, TokenUsage? usage, string? finish,
        string? error, int? ttft, int durationMs)
    {
        var start = g.Start;
        var (content, reasoning, seq) = g.Snapshot();
        ConversationSummary? retitled = null;
        // The final write must happen even when the app is stopping: its own short deadline.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(deadline.Token);
            var now = DateTime.UtcNow;
            await db.Messages.Where(m => m.Id == start.MessageId).ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Content, content)
                .SetProperty(m => m.Reasoning, reasoning)
                .SetProperty(m => m.Seq, seq)
                .SetProperty(m => m.Status, status)
                .SetProperty(m => m.ModelName, g.ModelName)
                .SetProperty(m => m.ProviderId, route != null ? route.ProviderId : null)
                .SetProperty(m => m.ApiKeyId, route != null ? route.ApiKeyId : null)
                .SetProperty(m => m.PromptTokens, usage != null ? usage.PromptTokens : null)
                .SetProperty(m => m.CompletionTokens, usage != null ? usage.CompletionTokens : null)
                .SetProperty(m => m.TokensEstimated, usage != null && usage.Estimated)
                .SetProperty(m => m.TimeToFirstTokenMs, ttft)
                .SetProperty(m => m.DurationMs, durationMs)
                .SetProperty(m => m.FinishReason, finish)
                .SetProperty(m => m.Error, error)
                .SetProperty(m => m.CompletedAt, now), deadline.Token);

            var conversation = await db.Conversations.FirstOrDefaultAsync(c => c.Id == start.ConversationId, deadline.Token);
            if (conversation is not null)
            {
                conversation.UpdatedAt = now;
                if (conversation.TitleIsAutomatic && conversation.Title == Conversations.DefaultTitle && content.Length > 0)
                {
                    var firstQuestion = await db.Messages.Where(m => m.ConversationId == conversation.Id && m.Role == MessageRole.User)
                        .OrderBy(m => m.Id).Select(m => m.Content).FirstOrDefaultAsync(deadline.Token);
                    if (firstQuestion is not null) conversation.Title = Conversations.TitleFrom(firstQuestion);
                }
                await db.SaveChangesAsync(deadline.Token);
                retitled = Conversations.Summary(conversation);
            }
        }
        catch (Exception ex) when (ex is DbUpdateException or OperationCanceledException or InvalidOperationException)
        {
            LogPersistFailure(ex, start.MessageId);
        }
        finally
        {
            byMessage.TryRemove(start.MessageId, out _);
            byConversation.TryRemove(new KeyValuePair<Guid, Generation>(start.ConversationId, g));
        }

        var stats = new MessageStats(g.ModelName, usage?.PromptTokens, usage?.CompletionTokens, usage?.Estimated ?? false, ttft, durationMs, finish);
        var completed = new GenerationCompletedEvent(start.ConversationId, start.MessageId, StatusNames.Of(status), seq, content, markdown.Render(content), stats, error);
        await SafeSendAsync(g, c => c.GenerationCompleted(completed));
        if (retitled is not null) await SafeSendAsync(g, c => c.ConversationChanged(retitled));
    }

    /// <summary>Throttled rendered snapshots for the screen, and the at-least-every-second save.</summary>
    async Task TickAsync(Generation g, CancellationToken cancellationToken)
    {
        var o = options.Value;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(o.SnapshotIntervalMs));
        int renderedSeq = 0, savedSeq = 0;
        var lastSave = Stopwatch.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var (content, reasoning, seq) = g.Snapshot();
                if (seq != renderedSeq)
                {
                    renderedSeq = seq;
                    var snapshot = new RenderedSnapshot(g.Start.ConversationId, g.Start.MessageId, seq, content.Length, markdown.Render(content));
                    await SafeSendAsync(g, c => c.Snapshot(snapshot));
                }
                if (seq != savedSeq && Stopwatch.GetElapsedTime(lastSave).TotalMilliseconds >= o.PersistIntervalMs)
                {
                    await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                    await db.Messages.Where(m => m.Id == g.Start.MessageId && m.Status == MessageStatus.Streaming)
                        .ExecuteUpdateAsync(s => s.SetProperty(m => m.Content, content).SetProperty(m => m.Reasoning, reasoning).SetProperty(m => m.Seq, seq), cancellationToken);
                    savedSeq = seq;
                    lastSave = Stopwatch.GetTimestamp();
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception ex)
        {
            // A failed periodic save is retried by the final write; the stream goes on.
            LogPersistFailure(ex, g.Start.MessageId);
        }
    }

    async Task SafeSendAsync(Generation g, Func<IChatClient, Task> send)
    {
        try { await send(hub.Clients.User(g.Start.UserId)); }
        catch (Exception ex) { LogPushFailure(ex, g.Start.MessageId); }
    }

    static int ElapsedMs(long since) => (int)Stopwatch.GetElapsedTime(since).TotalMilliseconds;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // One node: anything still "streaming" belongs to a process that died. (With several nodes
        // this would need an owner column and a heartbeat so one node does not mark another's work.)
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var count = await db.Messages.Where(m => m.Status == MessageStatus.Streaming)
            .ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Status, MessageStatus.Interrupted)
                .SetProperty(m => m.Error, "The server restarted while this reply was being written."), cancellationToken);
        if (count > 0) LogInterrupted(count);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var running = byMessage.Values.ToList();
        foreach (var g in running) await g.Cancellation.CancelAsync();
        await Task.WhenAll(running.Select(g => g.Completion)).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    [LoggerMessage(LogLevel.Information, "Generation {MessageId} failed in the router: {Error}")]
    partial void LogRouterFailure(long messageId, RouterError error);

    [LoggerMessage(LogLevel.Error, "Generation {MessageId} failed unexpectedly")]
    partial void LogUnexpectedFailure(Exception ex, long messageId);

    [LoggerMessage(LogLevel.Warning, "Could not save generation {MessageId}")]
    partial void LogPersistFailure(Exception ex, long messageId);

    [LoggerMessage(LogLevel.Warning, "Could not push generation {MessageId} to the client")]
    partial void LogPushFailure(Exception ex, long messageId);

    [LoggerMessage(LogLevel.Warning, "Marked {Count} replies left streaming by a previous process as interrupted")]
    partial void LogInterrupted(int count);
}
