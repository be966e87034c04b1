using System.Diagnostics;
using System.Threading.Channels;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Telemetry;
using Aggregator.Web.Upstream;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// Runs one generation from the first upstream byte to the final write. Three loops share the
/// <see cref="Generation"/>: the reader appends what the router streams and only signals a bounded
/// channel (it never waits on SignalR or Redis); the pusher sends everything that arrived during a
/// <see cref="ChatOptions.CoalesceMs"/> window as one numbered push (to the user's connections and to the
/// <see cref="IGenerationStream"/> copy); the ticker sends throttled rendered snapshots and saves the text
/// at least every <see cref="ChatOptions.PersistIntervalMs"/>. The final write stores the rendered HTML.
/// </summary>
public sealed partial class GenerationPipeline(
    IServiceScopeFactory scopes,
    IDbContextFactory<AppDbContext> dbFactory,
    IHubContext<ChatHub, IChatClient> hub,
    IGenerationStream stream,
    MarkdownRenderer markdown,
    IOptions<ChatOptions> options,
    ILogger<GenerationPipeline> log)
{
    /// <param name="released">Called once the final state is saved and before clients hear of it, so a send right after the completion is not refused.</param>
    public async Task RunAsync(Generation g, Action released)
    {
        var start = g.Start;
        var began = Stopwatch.GetTimestamp();
        int? ttft = null;
        TokenUsage? usage = null;
        string? finish = null, error = null;
        RouteInfo? route = null;
        var status = MessageStatus.Complete;
        // Capacity one, extra signals dropped: the text itself accumulates in the generation.
        var pending = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true, SingleWriter = true });
        using var tickerStop = new CancellationTokenSource();

        await SafeSendAsync(g, c => c.GenerationStarted(new GenerationStartedEvent(start.ConversationId, start.UserMessageId, start.MessageId, g.ModelName)));
        var snapshots = new SnapshotSchedule(new StreamingMarkdown(markdown), TimeSpan.FromMilliseconds(options.Value.SnapshotIntervalMs));
        var pusher = PushAsync(g, pending.Reader, snapshots);
        var ticker = TickAsync(g, snapshots, tickerStop.Token);
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
                        g.Append(d.Text);
                        pending.Writer.TryWrite(true);
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
            if (!g.StopRequested) error = GenerationSweeper.ServerStopped;
        }
        catch (RouterException ex)
        {
            // After the first token the router never retries: the partial reply stays, marked interrupted.
            status = ex.Error == RouterError.Interrupted ? MessageStatus.Interrupted : MessageStatus.Failed;
            error = TraceReference.Append(ex.Message);
            finish ??= "error";
            LogRouterFailure(start.MessageId, ex.Error);
        }
        catch (Exception ex)
        {
            status = MessageStatus.Failed;
            error = TraceReference.Append("The reply failed unexpectedly. Try again.");
            finish ??= "error";
            LogUnexpectedFailure(ex, start.MessageId);
        }
        var durationMs = ElapsedMs(began); // the upstream's time, not the time clients took to be told

        pending.Writer.TryComplete();
        await pusher; // the last push carries whatever was still pending
        await tickerStop.CancelAsync();
        await ticker;
        await FinishAsync(g, status, route, usage, finish, error, ttft, durationMs, released);
    }

    /// <summary>One push per coalescing window at most; the first goes out at once (time to first delta).</summary>
    async Task PushAsync(Generation g, ChannelReader<bool> pending, SnapshotSchedule snapshots)
    {
        var window = TimeSpan.FromMilliseconds(options.Value.CoalesceMs);
        long lastPush = 0;
        while (await pending.WaitToReadAsync())
        {
            while (pending.TryRead(out _)) { }
            await WindowAsync();
            if (await PushPendingAsync(g, snapshots)) lastPush = Stopwatch.GetTimestamp();
        }
        await WindowAsync();
        await PushPendingAsync(g, snapshots);

        Task WindowAsync()
        {
            var since = Stopwatch.GetElapsedTime(lastPush);
            return lastPush != 0 && since < window ? Task.Delay(window - since) : Task.CompletedTask;
        }
    }

    async Task<bool> PushPendingAsync(Generation g, SnapshotSchedule snapshots)
    {
        if (g.TakePush() is not { } push) return false;
        // Only the pusher moves the pushed text on, so the generation's snapshot is the text up to this push.
        var withHtml = snapshots.RenderIfDue(g, push.Seq, pushing: true) is { } html ? push with { Html = html } : push;
        await SafeSendAsync(g, c => c.Delta(withHtml));
        await stream.AppendAsync(push);
        return true;
    }

    async Task FinishAsync(Generation g, MessageStatus status, RouteInfo? route, TokenUsage? usage, string? finish,
        string? error, int? ttft, int durationMs, Action released)
    {
        var start = g.Start;
        var (content, reasoning, seq) = g.Snapshot();
        var html = markdown.Render(content);
        ConversationSummary? retitled = null;
        // The final write must happen even when the app is stopping: its own short deadline.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(deadline.Token);
            var now = DateTime.UtcNow;
            // Unconditional: if a sweeper took this reply for orphaned while its owner was merely cut off, the owner's word wins.
            await db.Messages.Where(m => m.Id == start.MessageId).ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Content, content)
                .SetProperty(m => m.Html, html)
                .SetProperty(m => m.Reasoning, reasoning)
                .SetProperty(m => m.Seq, seq)
                .SetProperty(m => m.Status, status)
                .SetProperty(m => m.OwnerNode, (string?)null)
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
            released();
        }
        await stream.CompleteAsync(start.MessageId);

        var stats = new MessageStats(g.ModelName, usage?.PromptTokens, usage?.CompletionTokens, usage?.Estimated ?? false, ttft, durationMs, finish);
        var completed = new GenerationCompletedEvent(start.ConversationId, start.MessageId, StatusNames.Of(status), seq, content, html, stats, error);
        await SafeSendAsync(g, c => c.GenerationCompleted(completed));
        if (retitled is not null) await SafeSendAsync(g, c => c.ConversationChanged(retitled));
    }

    /// <summary>
    /// The at-least-every-second save, and a rendered snapshot on its own only when the stream paused with text not
    /// yet rendered (while text flows, snapshots ride on the pushes).
    /// </summary>
    async Task TickAsync(Generation g, SnapshotSchedule snapshots, CancellationToken cancellationToken)
    {
        var o = options.Value;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(o.SnapshotIntervalMs));
        var savedSeq = 0;
        var lastSave = Stopwatch.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var (content, reasoning, seq) = g.Snapshot();
                if (snapshots.RenderIfDue(g, seq, pushing: false) is { } html)
                    await SafeSendAsync(g, c => c.Snapshot(new RenderedSnapshot(g.Start.ConversationId, g.Start.MessageId, seq, content.Length, html)));
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

    /// <summary>
    /// When a generation's text is rendered for the screen: at most once per snapshot interval, on a push when one
    /// is due, by the ticker when pushes stopped with text unrendered. Only the open tail is rendered each time.
    /// </summary>
    sealed class SnapshotSchedule(StreamingMarkdown rendering, TimeSpan interval)
    {
        readonly Lock _gate = new();
        long _lastRender = Stopwatch.GetTimestamp(), _lastPush;
        int _renderedSeq;

        public string? RenderIfDue(Generation g, int seq, bool pushing)
        {
            lock (_gate)
            {
                if (pushing) _lastPush = Stopwatch.GetTimestamp();
                else if (_lastPush != 0 && Stopwatch.GetElapsedTime(_lastPush) < interval) return null; // pushes are flowing: they carry it
                if (seq == _renderedSeq || Stopwatch.GetElapsedTime(_lastRender) < interval) return null;
                var (content, _, current) = g.Snapshot();
                if (current != seq) return null; // moved on meanwhile: the next push renders
                _renderedSeq = seq;
                _lastRender = Stopwatch.GetTimestamp();
                return rendering.Render(content);
            }
        }
    }

    async Task SafeSendAsync(Generation g, Func<IChatClient, Task> send)
    {
        try { await send(hub.Clients.User(g.Start.UserId)); }
        catch (Exception ex) { LogPushFailure(ex, g.Start.MessageId); }
    }

    static int ElapsedMs(long since) => (int)Stopwatch.GetElapsedTime(since).TotalMilliseconds;

    [LoggerMessage(LogLevel.Information, "Generation {MessageId} failed in the router: {Error}")]
    partial void LogRouterFailure(long messageId, RouterError error);

    [LoggerMessage(LogLevel.Error, "Generation {MessageId} failed unexpectedly")]
    partial void LogUnexpectedFailure(Exception ex, long messageId);

    [LoggerMessage(LogLevel.Warning, "Could not save generation {MessageId}")]
    partial void LogPersistFailure(Exception ex, long messageId);

    [LoggerMessage(LogLevel.Warning, "Could not push generation {MessageId} to the client")]
    partial void LogPushFailure(Exception ex, long messageId);
}
