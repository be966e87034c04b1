using System.Globalization;
using System.Threading.RateLimiting;
using Aggregator.Web.Cluster;
using StackExchange.Redis;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// A token's own requests-per-minute limit (on top of the owner's tier limits, which the router
/// applies), atomic under concurrency, so of N simultaneous requests exactly the limit pass.
/// <see cref="TokenRateLimits"/> in this process, <see cref="RedisTokenRateLimits"/> across nodes.
/// </summary>
public interface ITokenRateLimits
{
    /// <summary>Counts one request, or throws a 429 <see cref="ApiException"/> saying when to retry.</summary>
    ValueTask AcquireAsync(ApiCaller caller, CancellationToken cancellationToken);
}

/// <summary>In-process: a sliding window per token from System.Threading.RateLimiting. Also the Redis one's fallback.</summary>
public sealed class TokenRateLimits : ITokenRateLimits, IDisposable
{
    readonly PartitionedRateLimiter<(long TokenId, int Limit)> _limiter =
        PartitionedRateLimiter.Create<(long TokenId, int Limit), (long, int)>(key =>
            RateLimitPartition.GetSlidingWindowLimiter(key, k => new SlidingWindowRateLimiterOptions
            {
                PermitLimit = k.Item2,
                Window = TimeSpan.FromMinutes(1),
                SegmentsPerWindow = 6,
                QueueLimit = 0,
                AutoReplenishment = true,
            }));

    public ValueTask AcquireAsync(ApiCaller caller, CancellationToken cancellationToken)
    {
        if (caller.RequestsPerMinute is not { } limit) return ValueTask.CompletedTask;
        using var lease = _limiter.AttemptAcquire((caller.TokenId, limit));
        if (lease.IsAcquired) return ValueTask.CompletedTask;
        throw Refused(limit, lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1));
    }

    internal static ApiException Refused(int limit, TimeSpan retry) => new(ApiError.RateLimited(
        $"This API token's limit of {limit} requests per minute is reached; try again in {Math.Max(1, Math.Ceiling(retry.TotalSeconds))} s.", retry));

    public void Dispose() => _limiter.Dispose();
}

/// <summary>
/// Across nodes: a sliding log per token in Redis (<see cref="SharedCounters.SlidingLogScript"/>), stamped
/// by Redis's clock. While Redis is unreachable, <see cref="TokenRateLimits"/> counts on this node.
/// </summary>
public sealed class RedisTokenRateLimits(TokenRateLimits local, SharedCounters redis, NodeIdentity node) : ITokenRateLimits
{
    long _sequence;

    public async ValueTask AcquireAsync(ApiCaller caller, CancellationToken cancellationToken)
    {
        if (caller.RequestsPerMinute is not { } limit) return;
        var member = node.Id + ":" + Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture);
        var waitMs = await redis.TryRunAsync(SharedCounters.SlidingLogScript,
            [redis.Redis.Key("token-rpm:" + caller.TokenId.ToString(CultureInfo.InvariantCulture))], [limit, 60_000, member], "API token rate limits");
        if (waitMs is null)
        {
            await local.AcquireAsync(caller, cancellationToken);
            return;
        }
        if ((long)waitMs > 0) throw TokenRateLimits.Refused(limit, TimeSpan.FromMilliseconds((long)waitMs));
    }
}
