using System.Globalization;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Account;

/// <summary>
/// A token's use this UTC month as the usage rows have it (read through the (ApiTokenId, CreatedAt)
/// index), for the account and admin token pages. Budgets themselves are enforced from the in-memory
/// total (<see cref="Upstream.Usage.TokenSpend"/>); the rows trail it by the recorder's batch delay.
/// </summary>
public sealed record TokenMonth(int Requests, long Tokens, decimal CostUsd)
{
    public static readonly TokenMonth None = new(0, 0, 0m);

    public static DateTime MonthStart(DateTime now) => new(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc);

    public static async Task<Dictionary<long, TokenMonth>> ForAsync(AppDbContext db, IReadOnlyCollection<long> tokenIds, DateTime now, CancellationToken ct)
    {
        if (tokenIds.Count == 0) return [];
        var since = MonthStart(now);
        var ids = tokenIds.Select(id => (long?)id).ToList();
        var rows = await db.Usage.AsNoTracking()
            .Where(u => ids.Contains(u.ApiTokenId) && u.CreatedAt >= since)
            .GroupBy(u => u.ApiTokenId!.Value)
            .Select(g => new { Id = g.Key, Requests = g.Count(), Tokens = g.Sum(u => (long)u.PromptTokens + u.CompletionTokens), Cost = g.Sum(u => u.CostUsd ?? 0m) })
            .ToListAsync(ct);
        return rows.ToDictionary(r => r.Id, r => new TokenMonth(r.Requests, r.Tokens, r.Cost));
    }

    public static string Usd(decimal amount) => amount.ToString(amount is > 0m and < 0.01m ? "0.00####" : "0.00", CultureInfo.InvariantCulture) + " USD";

    /// <summary>"1.20 USD of 5.00 USD · 3,400 tokens of 1,000,000", or just what was used when there is no budget.</summary>
    public string Describe(decimal? budgetUsd, long? budgetTokens)
    {
        var cost = budgetUsd is { } usd ? $"{Usd(CostUsd)} of {Usd(usd)}" : Usd(CostUsd);
        var tokens = budgetTokens is { } t
            ? string.Create(CultureInfo.InvariantCulture, $"{Tokens:N0} of {t:N0} tokens")
            : string.Create(CultureInfo.InvariantCulture, $"{Tokens:N0} tokens");
        return $"{Requests} requests · {tokens} · {cost}";
    }

    public bool Exhausted(decimal? budgetUsd, long? budgetTokens) => CostUsd >= budgetUsd || Tokens >= budgetTokens;
}
