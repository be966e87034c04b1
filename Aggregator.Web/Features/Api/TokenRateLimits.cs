using System.Threading.RateLimiting;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// A token's own requests-per-minute limit (on top of the owner's tier limits, which the router
/// applies): a sliding window per token, atomic under concurrency, so of N simultaneous requests
/// exactly the limit pass. In-process, like the tier quotas.
/// </summary>
public sealed class TokenRateLimits : IDisposable
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

    /// <summary>Counts one request, or throws a 429 <see cref="ApiException"/> saying when to retry.</summary>
    public void Acquire(ApiCaller caller)
    {
        if (caller.RequestsPerMinute is not { } limit) return;
        using var lease = _limiter.AttemptAcquire((caller.TokenId, limit));
        if (lease.IsAcquired) return;
        var retry = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
        throw new ApiException(ApiError.RateLimited(
            $"This API token's limit of {limit} requests per minute is reached; try again in {Math.Max(1, Math.Ceiling(retry.TotalSeconds))} s.", retry));
    }

    public void Dispose() => _limiter.Dispose();
}
