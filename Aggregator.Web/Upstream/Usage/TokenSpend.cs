using System.Collections.Concurrent;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>What a token has used in one UTC calendar month: cost at our prices and prompt plus completion tokens.</summary>
public readonly record struct MonthSpend(decimal Usd, long Tokens);

/// <summary>
/// Month-to-date spend per API token, without a database round trip per request: a token's total is
/// read from the usage rows once per month (the first time a budgeted token is checked), then kept
/// up to date by <see cref="Count"/> as <see cref="UsageRecorder"/> queues each row. Rows created
/// before that read come from the database, rows created after it from <see cref="Count"/>, so none
/// is counted twice.
/// In-process: with several nodes each keeps its own total, so a token can overshoot its budget by
/// what the other nodes spent since they last read it; a shared counter (Redis INCRBYFLOAT) would close that.
/// </summary>
public sealed class TokenSpend(IDbContextFactory<AppDbContext> dbs, TimeProvider time)
{
    sealed class Month(DateTime start, DateTime cutoff)
    {
        public readonly DateTime Start = start;
        /// <summary>Rows created before this are read from the database; later ones are counted in memory.</summary>
        public readonly DateTime Cutoff = cutoff;
        public Task? Loading;
        public decimal LoadedUsd, CountedUsd;
        public long LoadedTokens, CountedTokens;
    }

    readonly ConcurrentDictionary<long, Month> _months = new();

    /// <summary>The first instant of the month after <paramref name="now"/> (UTC), when budgets renew.</summary>
    public static DateTime NextMonth(DateTime now) => MonthStart(now).AddMonths(1);

    static DateTime MonthStart(DateTime at) => new(at.Year, at.Month, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>The token's spend since the start of this UTC month.</summary>
    public async ValueTask<MonthSpend> MonthToDateAsync(long tokenId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var start = MonthStart(now);
        if (!_months.TryGetValue(tokenId, out var month) || month.Start != start)
            month = _months.AddOrUpdate(tokenId, _ => new Month(start, now), (_, m) => m.Start == start ? m : new Month(start, now));
        Task loading;
        lock (month) loading = month.Loading ??= LoadAsync(tokenId, month);
        try
        {
            // Shared by every request that finds the month unread; one caller giving up does not cancel it for the others.
            await loading.WaitAsync(cancellationToken);
        }
        catch (Exception) when (loading.IsFaulted)
        {
            lock (month) if (month.Loading == loading) month.Loading = null; // read again next time
            throw;
        }
        lock (month) return new MonthSpend(month.LoadedUsd + month.CountedUsd, month.LoadedTokens + month.CountedTokens);
    }

    async Task LoadAsync(long tokenId, Month month)
    {
        await using var db = await dbs.CreateDbContextAsync(CancellationToken.None);
        var used = await db.Usage.AsNoTracking()
            .Where(u => u.ApiTokenId == tokenId && u.CreatedAt >= month.Start && u.CreatedAt < month.Cutoff)
            .GroupBy(_ => 1)
            .Select(g => new { Usd = g.Sum(u => u.CostUsd ?? 0m), Tokens = g.Sum(u => (long)u.PromptTokens + u.CompletionTokens) })
            .FirstOrDefaultAsync(CancellationToken.None);
        lock (month)
        {
            month.LoadedUsd = used?.Usd ?? 0m;
            month.LoadedTokens = used?.Tokens ?? 0;
        }
    }

    /// <summary>Adds a usage row to its token's running total (called as the row is queued, before it is written).</summary>
    public void Count(UsageRecord record)
    {
        if (record.ApiTokenId is not { } tokenId || !_months.TryGetValue(tokenId, out var month)) return; // not read yet: the read will see the row
        if (record.CreatedAt < month.Cutoff || MonthStart(record.CreatedAt) != month.Start) return;
        lock (month)
        {
            month.CountedUsd += record.CostUsd ?? 0m;
            month.CountedTokens += (long)record.PromptTokens + record.CompletionTokens;
        }
    }
}
