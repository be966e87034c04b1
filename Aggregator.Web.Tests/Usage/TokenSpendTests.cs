using Aggregator.Web.Data;
using Aggregator.Web.Tests.Api;
using Aggregator.Web.Upstream.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Aggregator.Web.Tests.Usage;

/// <summary>A token's month-to-date spend: read once from the rows, then counted in memory, renewed at the month's turn.</summary>
public sealed class TokenSpendTests(ApiTestApp app) : IClassFixture<ApiTestApp>
{
    static UsageRecord Row(long tokenId, DateTime at, decimal cost, int tokens) => new()
    {
        UserId = "spend-test", ApiTokenId = tokenId, Source = "api", CreatedAt = at, Day = DateOnly.FromDateTime(at),
        PromptTokens = tokens, CompletionTokens = 0, CostUsd = cost,
    };

    [Fact]
    public void Budgets_renew_at_the_first_of_the_next_utc_month()
    {
        Assert.Equal(new DateTime(2027, 1, 1, 0, 0, 0, DateTimeKind.Utc), TokenSpend.NextMonth(new DateTime(2026, 12, 15, 8, 0, 0, DateTimeKind.Utc)));
        Assert.Equal(new DateTime(2026, 3, 1, 0, 0, 0, DateTimeKind.Utc), TokenSpend.NextMonth(new DateTime(2026, 2, 28, 23, 59, 59, DateTimeKind.Utc)));
    }

    [Fact]
    public async Task Rows_already_written_are_read_once_later_ones_counted_once_and_a_new_month_starts_at_zero()
    {
        var tokenId = Random.Shared.NextInt64(1_000_000, long.MaxValue);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 31, 23, 0, 0, TimeSpan.Zero));
        var spend = new TokenSpend(app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>(), time);
        var written = Row(tokenId, time.GetUtcNow().UtcDateTime.AddMinutes(-30), 2m, 100);
        await app.QueryAsync(async db => { db.Usage.Add(written); return await db.SaveChangesAsync(); });

        Assert.Equal(new MonthSpend(2m, 100), await spend.MonthToDateAsync(tokenId, CancellationToken.None));
        spend.Count(written); // already in the total read from the database: not again
        time.Advance(TimeSpan.FromMinutes(10));
        spend.Count(Row(tokenId, time.GetUtcNow().UtcDateTime, 0.5m, 20));
        Assert.Equal(new MonthSpend(2.5m, 120), await spend.MonthToDateAsync(tokenId, CancellationToken.None));

        time.Advance(TimeSpan.FromHours(1)); // February
        Assert.Equal(new MonthSpend(0m, 0), await spend.MonthToDateAsync(tokenId, CancellationToken.None));
        spend.Count(Row(tokenId, time.GetUtcNow().UtcDateTime, 1m, 5));
        Assert.Equal(new MonthSpend(1m, 5), await spend.MonthToDateAsync(tokenId, CancellationToken.None));
    }
}
