using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>
/// Per-tier limits, checked before routing: requests per minute (a sliding window from
/// System.Threading.RateLimiting), messages and tokens per UTC day (counters seeded from the usage
/// table the first time a user is seen each day, so a restart does not reset them).
/// In-process; several nodes would keep the same counters in Redis.
/// </summary>
public sealed class TierQuotas : IDisposable
{
    sealed class Day
    {
        public DateOnly Date;
        public bool Seeded;
        public int Messages;
        public long Tokens;
    }

    readonly IOptionsMonitor<QuotaOptions> _options;
    readonly IDbContextFactory<AppDbContext> _dbFactory;
    readonly TimeProvider _time;
    readonly PartitionedRateLimiter<(string User, Tier Tier)> _perMinute;
    readonly ConcurrentDictionary<string, Day> _days = new(StringComparer.Ordinal);

    public TierQuotas(IOptionsMonitor<QuotaOptions> options, IDbContextFactory<AppDbContext> dbFactory, TimeProvider time)
    {
        _options = options;
        _dbFactory = dbFactory;
        _time = time;
        _perMinute = PartitionedRateLimiter.Create<(string User, Tier Tier), (string, Tier)>(key =>
            _options.CurrentValue.For(key.Tier).RequestsPerMinute is { } limit
                ? RateLimitPartition.GetSlidingWindowLimiter(key, _ => new SlidingWindowRateLimiterOptions
                {
                    PermitLimit = limit,
                    Window = TimeSpan.FromMinutes(1),
                    SegmentsPerWindow = 6,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                })
                : RateLimitPartition.GetNoLimiter(key));
    }

    /// <summary>Counts one message against the user's limits, or throws <see cref="RouterError.QuotaExceeded"/>.</summary>
    public async ValueTask<QuotaTicket> AcquireAsync(string userId, Tier tier, CancellationToken cancellationToken)
    {
        var limits = _options.CurrentValue.For(tier);
        if (limits.RequestsPerMinute is { } rpm)
        {
            using var lease = _perMinute.AttemptAcquire((userId, tier));
            if (!lease.IsAcquired)
            {
                var retry = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
                throw new RouterException(RouterError.QuotaExceeded,
                    $"Rate limit of {rpm} requests per minute for the {tier} tier reached; try again in {Math.Ceiling(retry.TotalSeconds)} s.", retry);
            }
        }
        if (limits.MessagesPerDay is null && limits.TokensPerDay is null) return new QuotaTicket(this, userId, Counted: false);

        var now = _time.GetUtcNow().UtcDateTime;
        var today = DateOnly.FromDateTime(now);
        var day = _days.GetOrAdd(userId, _ => new Day { Date = today });
        bool seeded;
        lock (day)
        {
            if (day.Date != today) { day.Date = today; day.Seeded = false; day.Messages = 0; day.Tokens = 0; }
            seeded = day.Seeded;
        }
        if (!seeded) await SeedAsync(userId, today, day, cancellationToken);

        var resetIn = today.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) - now;
        lock (day)
        {
            if (limits.MessagesPerDay is { } messages && day.Messages >= messages)
                throw new RouterException(RouterError.QuotaExceeded,
                    $"Daily limit of {messages} messages for the {tier} tier reached; it resets at 00:00 UTC (in {Describe(resetIn)}).", resetIn);
            if (limits.TokensPerDay is { } tokens && day.Tokens >= tokens)
                throw new RouterException(RouterError.QuotaExceeded,
                    $"Daily limit of {tokens} tokens for the {tier} tier reached; it resets at 00:00 UTC (in {Describe(resetIn)}).", resetIn);
            day.Messages++;
        }
        return new QuotaTicket(this, userId, Counted: true);
    }

    async Task SeedAsync(string userId, DateOnly today, Day day, CancellationToken cancellationToken)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var used = await db.Usage.Where(u => u.UserId == userId && u.Day == today)
            .GroupBy(_ => 1)
            .Select(g => new { Messages = g.Count(), Tokens = g.Sum(u => (long)u.PromptTokens + u.CompletionTokens) })
            .FirstOrDefaultAsync(cancellationToken);
        lock (day)
        {
            if (day.Seeded || day.Date != today) return;
            day.Messages += used?.Messages ?? 0;
            day.Tokens += used?.Tokens ?? 0;
            day.Seeded = true;
        }
    }

    internal void Settle(string userId, bool counted, long tokens, bool refund)
    {
        if (!counted || !_days.TryGetValue(userId, out var day)) return;
        lock (day)
        {
            if (refund) day.Messages = Math.Max(0, day.Messages - 1);
            day.Tokens += tokens;
        }
    }

    static string Describe(TimeSpan span) => span.TotalHours >= 1 ? $"{(int)span.TotalHours} h {span.Minutes} min" : $"{Math.Max(1, (int)Math.Ceiling(span.TotalMinutes))} min";

    public void Dispose() => _perMinute.Dispose();
}

/// <summary>One counted message: settled with the tokens it used, or refunded when nothing was served.</summary>
public readonly record struct QuotaTicket(TierQuotas Quotas, string UserId, bool Counted)
{
    public void Complete(TokenUsage usage) => Quotas.Settle(UserId, Counted, usage.Total, refund: false);
    public void Refund() => Quotas.Settle(UserId, Counted, 0, refund: true);
}
