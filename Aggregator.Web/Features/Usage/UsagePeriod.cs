namespace Aggregator.Web.Features.Usage;

/// <summary>A span of whole UTC days ending today, as the usage page offers them (<c>?period=7d</c>).</summary>
public sealed record UsagePeriod(string Key, string Label, DateOnly From, DateOnly To)
{
    public const string DefaultKey = "7d";

    public static readonly IReadOnlyList<(string Key, string Label)> Choices =
        [("today", "Today"), ("7d", "Last 7 days"), ("30d", "Last 30 days"), ("90d", "Last 90 days"), ("month", "This month")];

    /// <summary>The period named <paramref name="key"/> ending on <paramref name="today"/>; null for a name not offered.</summary>
    public static UsagePeriod? Parse(string? key, DateOnly today) => (key ?? DefaultKey).ToLowerInvariant() switch
    {
        "today" => new("today", "Today", today, today),
        "7d" => new("7d", "Last 7 days", today.AddDays(-6), today),
        "30d" => new("30d", "Last 30 days", today.AddDays(-29), today),
        "90d" => new("90d", "Last 90 days", today.AddDays(-89), today),
        "month" => new("month", "This month", new DateOnly(today.Year, today.Month, 1), today),
        _ => null,
    };

    public IEnumerable<DateOnly> Days
    {
        get
        {
            for (var day = From; day <= To; day = day.AddDays(1)) yield return day;
        }
    }
}
