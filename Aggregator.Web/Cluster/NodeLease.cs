using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Aggregator.Web.Cluster;

/// <summary>
/// Which nodes are alive: each node holds a lease it renews while it runs, and work a node owns
/// (a streaming reply) may be taken over only once that node's lease is gone.
/// </summary>
public interface INodeLeases
{
    /// <summary>
    /// The subset of <paramref name="nodes"/> whose lease is held; null when this cannot be judged
    /// right now (Redis unreachable, or only just back), in which case nothing may be taken over.
    /// </summary>
    Task<IReadOnlySet<string>?> AliveAsync(IReadOnlyCollection<string> nodes, CancellationToken cancellationToken);

    Task RenewAsync(CancellationToken cancellationToken);

    Task ReleaseAsync(CancellationToken cancellationToken);
}

public sealed class NodeLeaseOptions
{
    /// <summary>How long a lease outlives its last renewal (a node killed outright is seen dead after this).</summary>
    [Range(1000, 600_000)] public int LeaseMs { get; set; } = 10_000;
    [Range(100, 60_000)] public int RenewMs { get; set; } = 2_000;
}

/// <summary>One node (the embedded default): this process is the only one alive, so a reply any other owner left is orphaned.</summary>
public sealed class InProcessNodeLeases(NodeIdentity node) : INodeLeases
{
    public Task<IReadOnlySet<string>?> AliveAsync(IReadOnlyCollection<string> nodes, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlySet<string>?>(nodes.Contains(node.Id) ? new HashSet<string> { node.Id } : new HashSet<string>());

    public Task RenewAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ReleaseAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Key <c>{prefix}node:{id}</c> with a server-side expiry (so the nodes' clocks do not matter), renewed
/// every <see cref="NodeLeaseOptions.RenewMs"/>. After any failure to reach Redis this node refuses to judge
/// others for one lease period: a node that could not renew meanwhile must get the chance to renew first.
/// </summary>
public sealed class RedisNodeLeases(NodeIdentity node, RedisConnection redis, IOptions<NodeLeaseOptions> options) : INodeLeases
{
    long lastFailure; // 0: never failed (Stopwatch timestamps are far above a lease period)

    RedisKey KeyOf(string id) => redis.Key("node:" + id);

    public async Task<IReadOnlySet<string>?> AliveAsync(IReadOnlyCollection<string> nodes, CancellationToken cancellationToken)
    {
        if (Stopwatch.GetElapsedTime(Interlocked.Read(ref lastFailure)).TotalMilliseconds < options.Value.LeaseMs) return null;
        try
        {
            var ids = nodes.ToArray();
            if (ids.Length == 0) return new HashSet<string>();
            var values = await redis.Database.StringGetAsync(ids.Select(KeyOf).ToArray());
            return ids.Where((_, i) => values[i].HasValue).ToHashSet();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            Interlocked.Exchange(ref lastFailure, Stopwatch.GetTimestamp());
            return null;
        }
    }

    public async Task RenewAsync(CancellationToken cancellationToken)
    {
        try
        {
            await redis.Database.StringSetAsync(KeyOf(node.Id), DateTime.UtcNow.ToString("O"), TimeSpan.FromMilliseconds(options.Value.LeaseMs));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            Interlocked.Exchange(ref lastFailure, Stopwatch.GetTimestamp());
            throw;
        }
    }

    public async Task ReleaseAsync(CancellationToken cancellationToken) => await redis.Database.KeyDeleteAsync(KeyOf(node.Id));
}

/// <summary>
/// Holds this node's lease from start to a graceful stop. Registered before the services whose work it
/// vouches for, so it starts before they accept work and is released only after they have stopped.
/// </summary>
public sealed partial class NodeLeaseHeartbeat(INodeLeases leases, IOptions<NodeLeaseOptions> options, ILogger<NodeLeaseHeartbeat> log) : IHostedService
{
    readonly CancellationTokenSource stopping = new();
    Task beating = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await TryRenewAsync(cancellationToken);
        beating = BeatAsync(stopping.Token);
    }

    async Task BeatAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.RenewMs));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken)) await TryRenewAsync(cancellationToken);
        }
        catch (OperationCanceledException) { }
    }

    async Task TryRenewAsync(CancellationToken cancellationToken)
    {
        try { await leases.RenewAsync(cancellationToken); }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException) { LogRenewFailed(ex.GetType().Name); }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // A host stopped twice (stop, then dispose) calls this again after Dispose: nothing left to do then.
        try { await stopping.CancelAsync(); }
        catch (ObjectDisposedException) { return; }
        await beating;
        try { await leases.ReleaseAsync(cancellationToken); }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException) { LogRenewFailed(ex.GetType().Name); }
    }

    [LoggerMessage(LogLevel.Warning, "Could not renew or release this node's lease ({Reason}); it expires on its own")]
    partial void LogRenewFailed(string reason);
}
