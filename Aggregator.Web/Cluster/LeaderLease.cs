using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Aggregator.Web.Cluster;

/// <summary>
/// Which node runs the jobs the cluster needs once, not once per node: the due-sync scheduler and the
/// key probe. Asked-for work (Sync now, a key added) runs wherever it was asked.
/// </summary>
public interface ILeaderLease
{
    bool IsLeader { get; }
}

/// <summary>One node (the embedded default): it is the leader.</summary>
public sealed class SingleNodeLeader : ILeaderLease
{
    public bool IsLeader => true;
}

public sealed class LeaderOptions
{
    /// <summary>How long a leader's lease lasts without renewal (it renews every third of it): a killed leader is replaced within this.</summary>
    [Range(typeof(TimeSpan), "00:00:00.300", "00:10:00")] public TimeSpan LeaderLease { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// A lease in Redis: <c>SET {prefix}leader {node} NX PX</c> to take it, renewed only by its holder
/// (compare-and-expire in one script), deleted by its holder on a clean stop so another node takes over
/// at once. Counted on this node's monotonic clock from before the request, so a lease Redis let lapse is
/// never believed held (clocks of different nodes never meet). While this node cannot reach Redis it
/// leads too: the jobs stay safe when two nodes run them (a sync takes the provider's PostgreSQL lock and
/// re-reads when it was last synced; a probe is an extra model-list call) and a node cut off from Redis
/// keeps probing its own keys back into service.
/// </summary>
public sealed partial class RedisLeaderLease(RedisConnection redis, NodeIdentity node, IOptions<LeaderOptions> options, ILogger<RedisLeaderLease> log)
    : IHostedService, ILeaderLease, IDisposable
{
    public const string KeyName = "leader";
    const string Renew = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
    const string Release = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

    // Leases are about real time: never the app's TimeProvider (tests fake it for schedules).
    static readonly TimeProvider Clock = TimeProvider.System;
    readonly CancellationTokenSource _stopping = new();
    Task? _loop;
    long _heldUntil;     // Clock timestamp; 0 when not held
    volatile bool _cutOff;

    public bool IsLeader => _cutOff || Clock.GetTimestamp() < Interlocked.Read(ref _heldUntil);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Once before the app serves, so a lone node is the leader by the time its jobs first look.
        await TickAsync();
        _loop = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);
    }

    async Task LoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try { await Task.Delay(options.Value.LeaderLease / 3, ct); }
            catch (OperationCanceledException) { return; }
            await TickAsync();
        }
    }

    async Task TickAsync()
    {
        var lease = options.Value.LeaderLease;
        var startedAt = Clock.GetTimestamp();
        var wasLeader = IsLeader;
        try
        {
            var db = redis.Database;
            var key = redis.Key(KeyName);
            var held = Interlocked.Read(ref _heldUntil) != 0
                && (long)await db.ScriptEvaluateAsync(Renew, [key], [node.Id, (long)lease.TotalMilliseconds]) == 1;
            if (!held) held = await db.StringSetAsync(key, node.Id, lease, When.NotExists);
            Interlocked.Exchange(ref _heldUntil, held ? startedAt + (long)(lease.TotalSeconds * Clock.TimestampFrequency) : 0);
            if (_cutOff) LogReconnected();
            _cutOff = false;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            if (!_cutOff) LogCutOff(ex.GetType().Name);
            _cutOff = true;
        }
        if (IsLeader != wasLeader) LogLeadership(IsLeader ? "now leads" : "no longer leads", node.Id);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // A host stopped twice (stop, then dispose) calls this again after Dispose: nothing left to do then.
        try { await _stopping.CancelAsync(); }
        catch (ObjectDisposedException) { return; }
        if (_loop is not null) await _loop;
        if (Interlocked.Exchange(ref _heldUntil, 0) == 0) return;
        try
        {
            // A clean stop hands over at once instead of after the lease runs out.
            await redis.Database.ScriptEvaluateAsync(Release, [redis.Key(KeyName)], [node.Id]);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException) { }
    }

    public void Dispose() => _stopping.Dispose();

    [LoggerMessage(LogLevel.Information, "Cluster jobs (scheduled syncs, key probe): node {Node} {Change}")]
    partial void LogLeadership(string change, string node);

    [LoggerMessage(LogLevel.Warning, "Cannot reach Redis for the leader lease ({Reason}): this node runs the cluster jobs itself until it returns")]
    partial void LogCutOff(string reason);

    [LoggerMessage(LogLevel.Information, "Redis reachable again: the leader lease decides who runs the cluster jobs")]
    partial void LogReconnected();
}
