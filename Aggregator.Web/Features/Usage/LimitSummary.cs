using System.Globalization;
using Aggregator.Web.Upstream.Usage;

namespace Aggregator.Web.Features.Usage;

/// <summary>
/// The line by the composer once a daily limit is close ("2 of 15 messages left today · resets 00:00 UTC"),
/// so running out never comes as a surprise. Null while every limit is far.
/// </summary>
public sealed record LimitSummary(string Text, int PercentUsed)
{
    /// <summary>Share of a limit used from which the summary shows.</summary>
    public const double Close = 0.8;

    public static LimitSummary? Near(QuotaStatus status)
    {
        var (meter, unit) = new[] { (status.MessagesToday, "messages"), (status.TokensToday, "tokens") }
            .Where(m => m.Item1.Limit is not null && m.Item1.Share >= Close)
            .OrderByDescending(m => m.Item1.Share)
            .FirstOrDefault();
        if (meter is null) return null;
        var text = string.Create(CultureInfo.InvariantCulture, $"{meter.Left:N0} of {meter.Limit:N0} {unit} left today · resets 00:00 UTC");
        return new LimitSummary(text, (int)Math.Round(meter.Share * 100));
    }
}
