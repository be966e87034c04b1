using System.Globalization;

namespace Aggregator.Web.Features.Admin.Dashboard;

/// <summary>
/// What the dashboard shows, as its query string says (so a view is a link): a period and optional provider, model,
/// key and user. <see cref="Resolve"/> turns it into UTC bounds and a bucket size.
/// </summary>
public sealed record DashboardFilter(
    string Period = DashboardFilter.DefaultPeriod, DateOnly? From = null, DateOnly? To = null,
    int? ProviderId = null, long? ModelId = null, long? KeyId = null, string? UserId = null)
{
    public const string DefaultPeriod = "7d";
    /// <summary>The longest custom period: a year and a day, so "this time last year" fits.</summary>
    public const int MaxCustomDays = 367;

    public static readonly IReadOnlyList<(string Value, string Label)> Periods =
        [("24h", "Last 24 hours"), ("48h", "Last 48 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days"), ("90d", "Last 90 days"), ("custom", "Custom")];

    /// <summary>The bounds, or the default period and a message saying why, when the input makes no period.</summary>
    public (DashboardRange Range, string? Error) Resolve(DateTime nowUtc)
    {
        var today = DateOnly.FromDateTime(nowUtc);
        var thisHour = new DateTime(nowUtc.Year, nowUtc.Month, nowUtc.Day, nowUtc.Hour, 0, 0, DateTimeKind.Utc);
        switch (Period)
        {
            case "24h": return (DashboardRange.Hours(thisHour.AddHours(-23), 24), null);
            case "48h": return (DashboardRange.Hours(thisHour.AddHours(-47), 48), null);
            case "7d": return (DashboardRange.Days(today.AddDays(-6), today), null);
            case "30d": return (DashboardRange.Days(today.AddDays(-29), today), null);
            case "90d": return (DashboardRange.Days(today.AddDays(-89), today), null);
            case "custom":
                if (From is not { } from || To is not { } to) return (Default(today), "Choose both a start and an end day for a custom period.");
                if (from > to) return (Default(today), "The custom period starts after it ends.");
                if (to.DayNumber - from.DayNumber + 1 > MaxCustomDays) return (Default(today), $"A custom period is at most {MaxCustomDays} days.");
                // Two days or less: by hour, from the rows themselves, as the 24 h and 48 h views are.
                return to.DayNumber - from.DayNumber < 2
                    ? (DashboardRange.Hours(from.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), (to.DayNumber - from.DayNumber + 1) * 24), null)
                    : (DashboardRange.Days(from, to), null);
            default: return (Default(today), null);
        }
    }

    static DashboardRange Default(DateOnly today) => DashboardRange.Days(today.AddDays(-6), today);

    /// <summary>The query string of this view (for links: the CSV, a filter removed).</summary>
    public Dictionary<string, string?> ToQuery()
    {
        var query = new Dictionary<string, string?> { ["period"] = Period };
        if (Period == "custom")
        {
            query["from"] = From?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            query["to"] = To?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }
        if (ProviderId is { } p) query["provider"] = p.ToString(CultureInfo.InvariantCulture);
        if (ModelId is { } m) query["model"] = m.ToString(CultureInfo.InvariantCulture);
        if (KeyId is { } k) query["key"] = k.ToString(CultureInfo.InvariantCulture);
        if (UserId is { Length: > 0 } u) query["user"] = u;
        return query;
    }
}

/// <summary>
/// A dashboard period in UTC: [<see cref="Start"/>, <see cref="End"/>) in buckets of an hour (read from the usage rows)
/// or of a day (read from <see cref="Data.UsageDaily"/>).
/// </summary>
public sealed record DashboardRange(DateTime Start, DateTime End, bool Hourly)
{
    public static DashboardRange Hours(DateTime start, int hours) => new(start, start.AddHours(hours), Hourly: true);

    public static DashboardRange Days(DateOnly first, DateOnly last) =>
        new(first.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), last.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), Hourly: false);

    public DateOnly FirstDay => DateOnly.FromDateTime(Start);
    /// <summary>The last day the period touches (inclusive).</summary>
    public DateOnly LastDay => DateOnly.FromDateTime(End.AddTicks(-1));

    /// <summary>Every bucket's start, in order, so a bucket without usage still shows (as zero).</summary>
    public IEnumerable<DateTime> Buckets()
    {
        for (var at = Start; at < End; at = Hourly ? at.AddHours(1) : at.AddDays(1)) yield return at;
    }

    /// <summary>For file names: 2026-11-25_2026-12-01, or with hours for hour periods (2026-11-30T19_2026-12-01T18).</summary>
    public string Slug => Hourly
        ? $"{Start:yyyy-MM-dd'T'HH}_{End.AddHours(-1):yyyy-MM-dd'T'HH}"
        : $"{FirstDay:yyyy-MM-dd}_{LastDay:yyyy-MM-dd}";

    public string Label(DateTime bucket) => Hourly
        ? bucket.ToString("MMM d HH:00", CultureInfo.InvariantCulture)
        : bucket.ToString("MMM d", CultureInfo.InvariantCulture);
}
