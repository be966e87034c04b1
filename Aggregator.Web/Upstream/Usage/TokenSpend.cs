using System.Collections.Concurrent;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>What a token has used in one UTC calendar month: cost at our prices and prompt plus completion tokens.</summary>
public readonly record struct MonthSpend(decimal Usd, long Tokens);

/// <summary>Month-to-date spend per API token: <see cref="TokenSpend"/> in this process, <see cref="RedisTokenSpend"/> across nodes.</summary>
public interface ITokenSpend
{
    /// <summary>The token's spend since the start of this UTC month.</summary>
    ValueTask<MonthSpend> MonthToDateAsync(long tokenId, CancellationToken cancellationToken);

    /// <summary>Adds a usage row to its token's running total (called as the row is queued, before it is written).</summary>
    void Count(UsageRecord record);
}

/// <summary>
/// Month-to-date spend per API token, without a database round trip per request: a token's total is
/// read from the usage rows once per month (the first time a budgeted token is checked), then kept
/// up to date by <see cref="Count"/> as <see cref="UsageRecorder"/> queues each row. Rows created
/// before that read come from the database, rows created after it from <see cref="Count"/>, so none
/// is counted twice.
/// In-process (one node, and the Redis one's fallback): another node's spend is not seen here.
/// </summary>
public sealed class TokenSpend(IDbContextFactory<AppDbContext> dbs, TimeProvider time) : ITokenSpend
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

    internal static DateTime MonthStart(DateTime at) => new(at.Year, at.Month, 1, 0, 0, 0, DateTimeKind.Utc);

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
        var used = await UsedAsync(dbs, tokenId, month.Start, month.Cutoff, CancellationToken.None);
        lock (month)
        {
            month.LoadedUsd = used.Usd;
            month.LoadedTokens = used.Tokens;
        }
    }

    /// <summary>What the token's usage rows created in [<paramref name="from"/>, <paramref name="before"/>) add up to.</summary>
    internal static async Task<MonthSpend> UsedAsync(IDbContextFactory<AppDbContext> dbs, long tokenId, DateTime from, DateTime before, CancellationToken cancellationToken)
    {
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var used = await db.Usage.AsNoTracking()
            .Where(u => u.ApiTokenId == tokenId && u.CreatedAt >= from && u.CreatedAt < before)
            .GroupBy(_ => 1)
            .Select(g => new { Usd = g.Sum(u => u.CostUsd ?? 0m), Tokens = g.Sum(u => (long)u.PromptTokens + u.CompletionTokens) })
            .FirstOrDefaultAsync(cancellationToken);
        return new MonthSpend(used?.Usd ?? 0m, used?.Tokens ?? 0);
    }

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
