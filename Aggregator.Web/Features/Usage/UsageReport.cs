using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Usage;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Usage;

/// <summary>Sums of <see cref="UsageDaily"/> rows: requests (served and failed), tokens in and out, cost.</summary>
public sealed record UsageFigures(long Requests, long Errors, long InputTokens, long OutputTokens, long CostNanoUsd)
{
    public static readonly UsageFigures Zero = new(0, 0, 0, 0, 0);
    public long Tokens => InputTokens + OutputTokens;
    public decimal CostUsd => CostNanoUsd / 1_000_000_000m;

    public static UsageFigures Sum(IEnumerable<UsageFigures> parts) => parts.Aggregate(Zero, (a, b) =>
        new(a.Requests + b.Requests, a.Errors + b.Errors, a.InputTokens + b.InputTokens, a.OutputTokens + b.OutputTokens, a.CostNanoUsd + b.CostNanoUsd));
}

public sealed record DayUsage(DateOnly Day, UsageFigures Figures);

/// <param name="Name">The model's display name; <paramref name="Id"/> is "provider/model", or null when the model is gone.</param>
public sealed record ModelUsage(string Name, string? Id, UsageFigures Figures);

/// <param name="Month">Month-to-date spend as the budget check counts it (<see cref="ITokenSpend"/>).</param>
public sealed record ApiTokenUsage(long Id, string Name, string Prefix, bool Revoked, UsageFigures Figures, MonthSpend Month,
    decimal? BudgetUsd, long? BudgetTokens);

/// <summary>
/// One user's usage over a period, from the daily sums (fast however many usage rows there are; equal to them, being
/// written in their transaction). Every query filters on the user given, which the page takes from the sign-in alone.
/// </summary>
public sealed record UsageReport(UsagePeriod Period, UsageFigures Total, IReadOnlyList<DayUsage> Days,
    IReadOnlyList<ModelUsage> Models, IReadOnlyList<ApiTokenUsage> Tokens)
{
    public bool IsEmpty => Total.Requests == 0;

    public static async Task<UsageReport> LoadAsync(AppDbContext db, ITokenSpend spend, string userId, UsagePeriod period, CancellationToken ct)
    {
        var rows = await db.UsageDaily.AsNoTracking()
            .Where(d => d.UserId == userId && d.Day >= period.From && d.Day <= period.To)
            .GroupBy(d => new { d.Day, d.ModelId, d.ApiTokenId })
            .Select(g => new
            {
                g.Key.Day, g.Key.ModelId, g.Key.ApiTokenId,
                Figures = new UsageFigures(g.Sum(d => d.Requests), g.Sum(d => d.Errors), g.Sum(d => d.PromptTokens),
                    g.Sum(d => d.CompletionTokens), g.Sum(d => d.CostNanoUsd)),
            })
            .ToListAsync(ct);

        var byDay = rows.GroupBy(r => r.Day).ToDictionary(g => g.Key, g => UsageFigures.Sum(g.Select(r => r.Figures)));
        var days = period.Days.Select(day => new DayUsage(day, byDay.GetValueOrDefault(day, UsageFigures.Zero))).ToList();

        var modelIds = rows.Select(r => r.ModelId).Where(id => id != 0).Distinct().ToList();
        var names = await db.Models.AsNoTracking().Where(m => modelIds.Contains(m.Id))
            .Select(m => new { m.Id, m.DisplayName, Full = m.Provider!.Name + "/" + m.ModelId })
            .ToDictionaryAsync(m => m.Id, ct);
        var models = rows.GroupBy(r => r.ModelId)
            .Select(g => names.TryGetValue(g.Key, out var m)
                ? new ModelUsage(m.DisplayName, m.Full, UsageFigures.Sum(g.Select(r => r.Figures)))
                : new ModelUsage(g.Key == 0 ? "(no model)" : "(removed model)", null, UsageFigures.Sum(g.Select(r => r.Figures))))
            .OrderByDescending(m => m.Figures.CostNanoUsd).ThenByDescending(m => m.Figures.Tokens).ThenBy(m => m.Name, StringComparer.Ordinal)
            .ToList();

        var byToken = rows.Where(r => r.ApiTokenId != 0).GroupBy(r => r.ApiTokenId)
            .ToDictionary(g => g.Key, g => UsageFigures.Sum(g.Select(r => r.Figures)));
        var usedTokenIds = byToken.Keys.ToList();
        var owned = await db.ApiTokens.AsNoTracking()
            .Where(t => t.UserId == userId && (t.RevokedAt == null || usedTokenIds.Contains(t.Id)))
            .OrderBy(t => t.Name).ThenBy(t => t.Id)
            .ToListAsync(ct);
        var tokens = new List<ApiTokenUsage>(owned.Count);
        foreach (var t in owned)
            tokens.Add(new ApiTokenUsage(t.Id, t.Name, t.Prefix, t.RevokedAt is not null, byToken.GetValueOrDefault(t.Id, UsageFigures.Zero),
                await spend.MonthToDateAsync(t.Id, ct), t.MonthlyBudgetUsd, t.MonthlyTokenBudget));

        return new UsageReport(period, UsageFigures.Sum(rows.Select(r => r.Figures)), days, models, tokens);
    }
}
