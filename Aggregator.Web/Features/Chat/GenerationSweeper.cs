using Aggregator.Web.Cluster;
using Aggregator.Web.Data;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// Marks interrupted the replies left "streaming" by a node that is gone: at start-up and then every
/// <see cref="ChatOptions.SweepIntervalMs"/>. Gone means its lease expired (a node killed outright, or a
/// previous process of a restarted node); a live node's replies are never touched, so a rolling restart
/// leaves the other nodes' work alone. When leases cannot be judged (Redis unreachable), nothing is swept.
/// The partial text saved by the owner (at least every <see cref="ChatOptions.PersistIntervalMs"/>) stays.
/// </summary>
public sealed partial class GenerationSweeper(
    IDbContextFactory<AppDbContext> dbFactory,
    INodeLeases leases,
    NodeIdentity node,
    IHubContext<ChatHub, IChatClient> hub,
    MarkdownRenderer markdown,
    IOptions<ChatOptions> options,
    ILogger<GenerationSweeper> log) : BackgroundService
{
    public const string ServerStopped = "The server stopped while this reply was being written.";

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await SweepAsync(cancellationToken); // before this node serves: its own previous process's replies
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.SweepIntervalMs));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try { await SweepAsync(stoppingToken); }
                catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException or TimeoutException) { LogSweepFailed(ex); }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>One pass; returns how many replies were marked interrupted.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var others = db.Messages.Where(m => m.Status == MessageStatus.Streaming && (m.OwnerNode == null || m.OwnerNode != node.Id));
        var owners = await others.Select(m => m.OwnerNode).Distinct().ToListAsync(cancellationToken);
        if (owners.Count == 0) return 0;
        var named = owners.OfType<string>().ToList();
        if (await leases.AliveAsync(named, cancellationToken) is not { } alive) return 0;
        var dead = named.Where(o => !alive.Contains(o)).ToList();
        if (dead.Count == 0 && !owners.Contains(null)) return 0;

        var orphans = await others.Where(m => m.OwnerNode == null || dead.Contains(m.OwnerNode))
            .Select(m => new { Message = m, m.Conversation!.UserId }).AsNoTracking().ToListAsync(cancellationToken);
        var swept = 0;
        foreach (var orphan in orphans)
        {
            var m = orphan.Message;
            var html = markdown.Render(m.Content);
            var now = DateTime.UtcNow;
            // Still streaming and still that owner's: an owner that was only cut off may have finished it meanwhile.
            var changed = await db.Messages.Where(x => x.Id == m.Id && x.Status == MessageStatus.Streaming && x.OwnerNode == m.OwnerNode)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(x => x.Status, MessageStatus.Interrupted)
                    .SetProperty(x => x.Error, ServerStopped)
                    .SetProperty(x => x.Html, html)
                    .SetProperty(x => x.OwnerNode, (string?)null)
                    .SetProperty(x => x.CompletedAt, now), cancellationToken);
            if (changed == 0) continue;
            swept++;
            m.Status = MessageStatus.Interrupted;
            m.Error = ServerStopped;
            // Open pages stop showing it as streaming (through the backplane, whichever node they are on).
            try { await hub.Clients.User(orphan.UserId).GenerationCompleted(ChatHub.Completed(m, markdown)); }
            catch (Exception ex) { LogPushFailed(ex, m.Id); }
        }
        if (swept > 0) LogInterrupted(swept, string.Join(", ", dead));
        return swept;
    }

    [LoggerMessage(LogLevel.Warning, "Marked {Count} replies interrupted: their node is gone ({Nodes})")]
    partial void LogInterrupted(int count, string nodes);

    [LoggerMessage(LogLevel.Warning, "Could not sweep replies left by stopped nodes")]
    partial void LogSweepFailed(Exception ex);

    [LoggerMessage(LogLevel.Warning, "Could not tell the client that reply {MessageId} was interrupted")]
    partial void LogPushFailed(Exception ex, long messageId);
}
