using System.Globalization;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Aggregator.Web.Upstream.Usage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aggregator.Web.Features.Usage;

/// <summary>
/// The signed-in user's own usage: totals, per day, per model and per API token for a chosen period, and what is
/// left of each quota and budget. The user is the sign-in's, never a request parameter, so nobody sees another's.
/// </summary>
public sealed class UsageModel(AppDbContext db, ITierQuotas quotas, ITokenSpend spend, TimeProvider time) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "period")] public string? PeriodKey { get; set; }
    public string? Notice { get; private set; }
    public DateTime Now { get; private set; }
    public UsageReport Report { get; private set; } = null!;
    public QuotaStatus Quotas { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken ct)
    {
        var userId = User.GetUserId() ?? throw new InvalidOperationException("The usage page needs a signed-in user.");
        Now = time.GetUtcNow().UtcDateTime;
        var today = DateOnly.FromDateTime(Now);
        var period = UsagePeriod.Parse(PeriodKey, today);
        if (period is null)
        {
            Notice = $"There is no period \"{PeriodKey}\"; showing the last 7 days.";
            period = UsagePeriod.Parse(UsagePeriod.DefaultKey, today)!;
        }
        Report = await UsageReport.LoadAsync(db, spend, userId, period, ct);
        Quotas = await quotas.StatusAsync(userId, User.GetTier(), ct);
    }

    /// <summary>One limit drawn as a bar: <paramref name="Limit"/> null for unlimited (no bar, just the text).</summary>
    public sealed record QuotaBar(string Id, string Label, decimal Used, decimal? Limit, string Text, DateTime? ResetsAt);

    /// <summary>The tier's limits: messages and tokens today, requests this minute.</summary>
    public IEnumerable<QuotaBar> TierBars()
    {
        yield return Bar("messages", "Messages today", Quotas.MessagesToday, "messages");
        yield return Bar("tokens", "Tokens today", Quotas.TokensToday, "tokens");
        yield return Bar("rpm", "Requests this minute", Quotas.RequestsPerMinute, "requests");
    }

    static QuotaBar Bar(string id, string label, QuotaMeter meter, string unit) => meter.Limit is { } limit
        ? new(id, label, meter.Used, limit, $"{Number(meter.Used)} of {Number(limit)} used · {Number(meter.Left!.Value)} left", meter.ResetsAt)
        : new(id, label, meter.Used, null, id == "rpm" ? "Unlimited" : $"{Number(meter.Used)} {unit} · Unlimited", null);

    /// <summary>Each API token's monthly budgets, against month-to-date spend; renewed on the 1st (UTC).</summary>
    public IEnumerable<QuotaBar> BudgetBars()
    {
        var renews = TokenSpend.NextMonth(Now);
        foreach (var t in Report.Tokens.Where(t => !t.Revoked))
        {
            if (t.BudgetUsd is { } usd)
                yield return new($"budget-usd-{t.Id}", $"{t.Name}: monthly budget (USD)", t.Month.Usd, usd,
                    $"{TokenMonth.Usd(t.Month.Usd)} of {TokenMonth.Usd(usd)} used · {TokenMonth.Usd(Math.Max(0, usd - t.Month.Usd))} left", renews);
            if (t.BudgetTokens is { } tokens)
                yield return new($"budget-tokens-{t.Id}", $"{t.Name}: monthly budget (tokens)", t.Month.Tokens, tokens,
                    $"{Number(t.Month.Tokens)} of {Number(tokens)} tokens used · {Number(Math.Max(0, tokens - t.Month.Tokens))} left", renews);
        }
    }

    /// <summary>A decimal for data attributes: invariant, no trailing zeros (PostgreSQL numerics keep their scale).</summary>
    public static string Plain(decimal value) => value.ToString("0.############", CultureInfo.InvariantCulture);

    public static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Day(DateOnly day) => day.ToString("ddd d MMM", CultureInfo.InvariantCulture);

    /// <summary>"00:00 UTC (in 5 h 2 min)", with the date when it is not today.</summary>
    public string ResetText(DateTime at)
    {
        var when = DateOnly.FromDateTime(at) == DateOnly.FromDateTime(Now) || at - Now <= TimeSpan.FromDays(1)
            ? at.ToString(at.Second == 0 ? "HH:mm" : "HH:mm:ss", CultureInfo.InvariantCulture)
            : at.ToString("d MMM yyyy HH:mm", CultureInfo.InvariantCulture);
        var left = at - Now;
        var inText = left.TotalDays >= 1 ? $"{(int)left.TotalDays} d {left.Hours} h"
            : left.TotalHours >= 1 ? $"{(int)left.TotalHours} h {left.Minutes} min"
            : left.TotalMinutes >= 1 ? $"{(int)left.TotalMinutes} min"
            : $"{Math.Max(1, (int)Math.Ceiling(left.TotalSeconds))} s";
        return $"{when} UTC (in {inText})";
    }
}
