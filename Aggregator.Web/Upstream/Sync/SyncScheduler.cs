using System.Threading.Channels;
using Aggregator.Web.Cluster;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Upstream.Sync;

/// <summary>
/// Runs syncs off the request path: ones asked for (a key added, "Sync now") and ones due by each
/// enabled provider's interval. Requests for a provider already queued are folded into one.
/// Due syncs are queued by the cluster's leader only (<see cref="ILeaderLease"/>); asked-for ones run
/// on the node that was asked, and <see cref="SyncLock"/> keeps one run per provider cluster-wide.
/// </summary>
public sealed partial class SyncScheduler(
    IServiceScopeFactory scopes,
    IDbContextFactory<AppDbContext> dbFactory,
    IOptions<SyncOptions> options,
    TimeProvider clock,
    ILeaderLease leader,
    ILogger<SyncScheduler> log) : BackgroundService
{
    readonly Channel<(int ProviderId, string Trigger)> _queue = Channel.CreateUnbounded<(int, string)>();
    readonly HashSet<int> _pending = [];

    /// <summary>Queues a sync; returns false when one for the provider is already waiting.</summary>
    public bool Request(int providerId, string trigger)
    {
        lock (_pending)
            if (!_pending.Add(providerId)) return false;
        _queue.Writer.TryWrite((providerId, trigger));
        return true;
    }

    public bool IsPending(int providerId)
    {
        lock (_pending) return _pending.Contains(providerId);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await MarkAbandonedRunsAsync(stoppingToken);
        var worker = WorkAsync(stoppingToken);
        if (options.Value.SchedulerEnabled)
        {
            using var timer = new PeriodicTimer(options.Value.SchedulerTick, clock);
            do await QueueDueProvidersAsync(stoppingToken);
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        await worker;
    }

    async Task WorkAsync(CancellationToken ct)
    {
        await foreach (var (providerId, trigger) in _queue.Reader.ReadAllAsync(ct))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<ModelSync>().SyncAsync(providerId, trigger, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSyncCrashed(ex, providerId);
            }
            finally
            {
                lock (_pending) _pending.Remove(providerId);
            }
        }
    }

    /// <summary>On the leader, queues every provider whose next sync is due (<see cref="NextDue"/>); returns how many were queued.</summary>
    public async Task<int> QueueDueProvidersAsync(CancellationToken ct)
    {
        if (!leader.IsLeader) return 0;
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var now = clock.GetUtcNow().UtcDateTime;
            var candidates = await db.Providers
                .Where(p => p.Enabled && p.SyncIntervalMinutes > 0 && p.Keys.Any(k => k.Active && k.DeletedAt == null))
                .Select(p => new
                {
                    p.Id, p.LastSyncedAt, p.SyncIntervalMinutes,
                    LastRunAt = db.SyncRuns.Where(r => r.ProviderId == p.Id).Max(r => (DateTime?)r.StartedAt),
                    FailuresInARow = db.SyncRuns.Count(r => r.ProviderId == p.Id && r.Status == SyncRunStatus.Failed
                        && r.Id > (db.SyncRuns.Where(s => s.ProviderId == p.Id && s.Status == SyncRunStatus.Succeeded).Max(s => (long?)s.Id) ?? 0)),
                })
                .ToListAsync(ct);
            var queued = 0;
            foreach (var p in candidates)
                if (NextDue(p.LastSyncedAt, p.LastRunAt, p.FailuresInARow, TimeSpan.FromMinutes(p.SyncIntervalMinutes), options.Value.FailureBackoff) <= now
                    && Request(p.Id, "schedule"))
                    queued++;
            return queued;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogScheduleFailed(ex);
            return 0;
        }
    }

    /// <summary>
    /// When a provider is next synced: its interval after the last success; after failed runs, a delay that
    /// doubles with each failure in a row (1 min, 2, 4, …) from the last attempt, never longer than the interval.
    /// </summary>
    public static DateTime NextDue(DateTime? lastSyncedAt, DateTime? lastRunAt, int failuresInARow, TimeSpan interval, TimeSpan backoff)
    {
        if (failuresInARow == 0 || lastRunAt is null) return lastSyncedAt is { } last ? last + interval : DateTime.MinValue;
        var delay = backoff * Math.Pow(2, Math.Min(failuresInARow - 1, 20));
        return lastRunAt.Value + (delay < interval ? delay : interval);
    }

    // A run left "running" by a process that died will never finish: say so instead of showing it forever.
    async Task MarkAbandonedRunsAsync(CancellationToken ct)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var cutoff = clock.GetUtcNow().UtcDateTime - options.Value.TotalTimeout - TimeSpan.FromMinutes(1);
            await db.SyncRuns.Where(r => r.Status == SyncRunStatus.Running && r.StartedAt < cutoff)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, SyncRunStatus.Failed)
                    .SetProperty(r => r.Error, "Interrupted: the app stopped during this sync."), ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogScheduleFailed(ex);
        }
    }

    [LoggerMessage(LogLevel.Error, "Sync of provider {ProviderId} crashed")]
    partial void LogSyncCrashed(Exception ex, int providerId);

    [LoggerMessage(LogLevel.Error, "Sync scheduler could not read providers")]
    partial void LogScheduleFailed(Exception ex);
}
