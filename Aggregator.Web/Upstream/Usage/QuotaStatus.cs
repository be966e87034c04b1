using Aggregator.Web.Data;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>One limit as it stands now: what is used, the limit (null: unlimited) and when the count starts afresh.</summary>
/// <param name="ResetsAt">UTC; null when nothing is counted against a rolling limit.</param>
public sealed record QuotaMeter(long Used, long? Limit, DateTime? ResetsAt)
{
    public long? Left => Limit is { } limit ? Math.Max(0, limit - Used) : null;

    /// <summary>Share of the limit used, 0 to 1; 0 when unlimited.</summary>
    public double Share => Limit is { } limit and > 0 ? Math.Min(1d, (double)Used / limit) : 0d;
}

/// <summary>The user's tier limits as <see cref="ITierQuotas"/> counts them: requests this minute, messages and tokens this UTC day.</summary>
public sealed record QuotaStatus(Tier Tier, QuotaMeter RequestsPerMinute, QuotaMeter MessagesToday, QuotaMeter TokensToday)
{
    internal static QuotaStatus Of(Tier tier, TierLimits limits, QuotaMeter perMinute, long messages, long tokens, DateOnly day)
    {
        var midnight = day.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        return new QuotaStatus(tier, perMinute,
            new QuotaMeter(messages, limits.MessagesPerDay, midnight),
            new QuotaMeter(tokens, limits.TokensPerDay, midnight));
    }
}
