using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>
/// Per-tier limits, checked before routing: requests per minute, messages and tokens per UTC day
/// (seeded from the usage rows the first time a user is counted each day, so a restart loses nothing).
/// <see cref="TierQuotas"/> counts in this process, <see cref="RedisTierQuotas"/> across nodes.
/// </summary>
public interface ITierQuotas
{
    /// <summary>Counts one message against the user's limits, or throws <see cref="RouterError.QuotaExceeded"/>.</summary>
    ValueTask<QuotaTicket> AcquireAsync(string userId, Tier tier, CancellationToken cancellationToken);

    /// <summary>Adds what a counted message used, or gives the message back when nothing was served.</summary>
    void Settle(QuotaTicket ticket, long tokens, bool refund);

    /// <summary>Where the user stands against each limit of the tier, as <see cref="AcquireAsync"/> would count it; counts nothing.</summary>
    ValueTask<QuotaStatus> StatusAsync(string userId, Tier tier, CancellationToken cancellationToken);
}

/// <summary>
/// In-process <see cref="ITierQuotas"/>: requests per minute as a sliding window from
/// System.Threading.RateLimiting, daily counters in memory. Also the Redis one's fallback.
/// </summary>
public sealed class TierQuotas : ITierQuotas, IDisposable
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

    public async ValueTask<QuotaTicket> AcquireAsync(string userId, Tier tier, CancellationToken cancellationToken)
    {
        var limits = _options.CurrentValue.For(tier);
        if (limits.RequestsPerMinute is { } rpm)
        {
            using var lease = _perMinute.AttemptAcquire((userId, tier));
            if (!lease.IsAcquired)
            {
                var retry = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
                throw PerMinuteExceeded(rpm, tier, retry);
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
            if (limits.MessagesPerDay is { } messages && day.Messages >= messages) throw DailyExceeded($"{messages} messages", tier, resetIn);
            if (limits.TokensPerDay is { } tokens && day.Tokens >= tokens) throw DailyExceeded($"{tokens} tokens", tier, resetIn);
            day.Messages++;
        }
        return new QuotaTicket(this, userId, Counted: true, today);
    }

    internal static RouterException PerMinuteExceeded(int rpm, Tier tier, TimeSpan retry) => new(RouterError.QuotaExceeded,
        $"Rate limit of {rpm} requests per minute for the {tier} tier reached; try again in {Math.Max(1, Math.Ceiling(retry.TotalSeconds))} s.", retry);

    internal static RouterException DailyExceeded(string limit, Tier tier, TimeSpan resetIn) => new(RouterError.QuotaExceeded,
        $"Daily limit of {limit} for the {tier} tier reached; it resets at 00:00 UTC (in {Describe(resetIn)}).", resetIn);

    /// <summary>Messages and tokens the user's usage rows of <paramref name="day"/> hold.</summary>
    internal static async Task<(int Messages, long Tokens)> UsedAsync(IDbContextFactory<AppDbContext> dbFactory, string userId, DateOnly day, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var used = await db.Usage.Where(u => u.UserId == userId && u.Day == day)
            .GroupBy(_ => 1)
            .Select(g => new { Messages = g.Count(), Tokens = g.Sum(u => (long)u.PromptTokens + u.CompletionTokens) })
            .FirstOrDefaultAsync(cancellationToken);
        return (used?.Messages ?? 0, used?.Tokens ?? 0);
    }

    async Task SeedAsync(string userId, DateOnly today, Day day, CancellationToken cancellationToken)
    {
        var used = await UsedAsync(_dbFactory, userId, today, cancellationToken);
        lock (day)
        {
            if (day.Seeded || day.Date != today) return;
            day.Messages += used.Messages;
            day.Tokens += used.Tokens;
            day.Seeded = true;
        }
    }

    public void Settle(QuotaTicket ticket, long tokens, bool refund)
    {
        if (!ticket.Counted || !_days.TryGetValue(ticket.UserId, out var day)) return;
        lock (day)
        {
            if (day.Date != ticket.Day) return; // counted yesterday: today's counters start afresh
            if (refund) day.Messages = Math.Max(0, day.Messages - 1);
            day.Tokens += tokens;
        }
    }

    public async ValueTask<QuotaStatus> StatusAsync(string userId, Tier tier, CancellationToken cancellationToken)
    {
        var limits = _options.CurrentValue.For(tier);
        var now = _time.GetUtcNow().UtcDateTime;
        var today = DateOnly.FromDateTime(now);
        var perMinute = new QuotaMeter(0, null, null);
        if (limits.RequestsPerMinute is { } rpm)
        {
            // The sliding window hands permits back segment by segment; a minute from now is when all of them are back.
            var used = Math.Max(0, rpm - (_perMinute.GetStatistics((userId, tier))?.CurrentAvailablePermits ?? rpm));
            perMinute = new QuotaMeter(used, rpm, used > 0 ? now.AddMinutes(1) : null);
        }
        (int Messages, long Tokens)? counted = null;
        if (_days.TryGetValue(userId, out var day))
            lock (day) if (day.Date == today && day.Seeded) counted = (day.Messages, day.Tokens);
        var (messages, tokens) = counted ?? await UsedAsync(_dbFactory, userId, today, cancellationToken);
        return QuotaStatus.Of(tier, limits, perMinute, messages, tokens, today);
    }

    static string Describe(TimeSpan span) => span.TotalHours >= 1 ? $"{(int)span.TotalHours} h {span.Minutes} min" : $"{Math.Max(1, (int)Math.Ceiling(span.TotalMinutes))} min";

    public void Dispose() => _perMinute.Dispose();
}

/// <summary>
/// One counted message: settled with the tokens it used, or refunded when nothing was served, by the
/// quotas that counted it (so a message counted on this node while Redis was down is settled here).
/// </summary>
/// <param name="Day">The UTC day it was counted on: a reply finishing after midnight settles on its own day.</param>
public readonly record struct QuotaTicket(ITierQuotas Quotas, string UserId, bool Counted, DateOnly Day = default)
{
    public void Complete(TokenUsage usage) => Quotas.Settle(this, usage.Total, refund: false);
    public void Refund() => Quotas.Settle(this, 0, refund: true);
}
