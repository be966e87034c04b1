using Aggregator.Web.Data;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Upstream.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aggregator.Web.Tests.Usage;

/// <summary>
/// The daily sums the dashboards read are written with the rows they sum, on PostgreSQL and on the embedded SQLite:
/// a second batch for the same day and key adds to the first (the upsert), failed requests count, failed attempts do not.
/// </summary>
public sealed class UsageDailyTests
{
    [Fact]
    public async Task Daily_sums_equal_the_rows_on_PostgreSQL()
    {
        await using var app = new AppFactory();
        var factory = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await AssertSumsAsync(factory);
    }

    [Fact]
    public async Task Daily_sums_equal_the_rows_on_SQLite()
    {
        var file = Path.Combine(Path.GetTempPath(), $"aggregator-daily-{Guid.NewGuid():N}.db");
        try
        {
            var options = new DbContextOptionsBuilder<SqliteDbContext>().UseSqlite($"Data Source={file};Pooling=False").Options;
            await using (var db = new SqliteDbContext(options)) await db.Database.MigrateAsync();
            await AssertSumsAsync(new Factory(() => new SqliteDbContext(options)));
        }
        finally
        {
            File.Delete(file);
        }
    }

    sealed class Factory(Func<AppDbContext> create) : IDbContextFactory<AppDbContext>
    {
        public AppDbContext CreateDbContext() => create();
    }

    static async Task AssertSumsAsync(IDbContextFactory<AppDbContext> factory)
    {
        var recorder = new UsageRecorder(factory, new TokenSpend(factory, TimeProvider.System), TimeProvider.System, NullLogger<UsageRecorder>.Instance);
        var user = "daily-" + Guid.NewGuid().ToString("N");
        var now = DateTime.UtcNow;
        UsageRecord Row(int prompt, int completion, decimal? cost, UsageOutcome outcome = UsageOutcome.Complete) => new()
        {
            UserId = user, ProviderId = 1, ModelId = 5, ApiKeyId = 7, Source = "chat", CreatedAt = now, Day = DateOnly.FromDateTime(now),
            PromptTokens = prompt, CompletionTokens = completion, CostUsd = cost, Outcome = outcome,
        };
        UpstreamError Error(bool request) => new()
        {
            UserId = user, ProviderId = 1, ModelId = 5, ApiKeyId = request ? null : 7, Source = "chat", CreatedAt = now,
            Day = DateOnly.FromDateTime(now), RequestFailed = request, ErrorClass = request ? "UpstreamFailed" : "ServerError", StatusCode = 500,
        };

        recorder.Record(Row(10, 20, 0.000123456789m));
        recorder.Record(Row(1, 2, null, UsageOutcome.Interrupted));
        await recorder.FlushAsync();
        recorder.Record(Row(100, 200, 0.5m));
        recorder.RecordError(Error(request: false)); // an attempt: the request may still have been served
        recorder.RecordError(Error(request: true));
        await recorder.FlushAsync();

        await using var db = await factory.CreateDbContextAsync();
        var days = await db.UsageDaily.Where(d => d.UserId == user).ToListAsync();
        Assert.Equal(4, days.Sum(d => d.Requests)); // three served + one failed request
        Assert.Equal(2, days.Sum(d => d.Errors));   // the interrupted reply + the failed request
        Assert.Equal(111, days.Sum(d => d.PromptTokens));
        Assert.Equal(222, days.Sum(d => d.CompletionTokens));
        Assert.Equal(0.500123457m, days.Sum(d => d.CostUsd));
        var served = Assert.Single(days, d => d.ApiKeyId == 7);
        Assert.Equal(3, served.Requests);
        // The per-dimension sums say the same, each dimension on its own.
        var today = DateOnly.FromDateTime(now);
        var byUser = await db.UsageDailyBy.SingleAsync(b => b.Day == today && b.Dimension == UsageDimension.User && b.UserId == user);
        Assert.Equal((4L, 2L, 111L, 222L, 0.500123457m), (byUser.Requests, byUser.Errors, byUser.PromptTokens, byUser.CompletionTokens, byUser.CostUsd));
        var byKey = await db.UsageDailyBy.SingleAsync(b => b.Day == today && b.Dimension == UsageDimension.Key && b.Id == 7);
        var byNoKey = await db.UsageDailyBy.SingleAsync(b => b.Day == today && b.Dimension == UsageDimension.Key && b.Id == 0);
        Assert.Equal((3L, 1L), (byKey.Requests, byNoKey.Requests)); // the failed request names no key
        foreach (var dimension in new[] { UsageDimension.Total, UsageDimension.Provider, UsageDimension.Model })
        {
            var sums = await db.UsageDailyBy.Where(b => b.Day == today && b.Dimension == dimension).ToListAsync();
            Assert.Equal((4L, 2L), (sums.Sum(b => b.Requests), sums.Sum(b => b.Errors))); // a fresh database: only this test's rows
        }
        Assert.Equal(2, await db.UpstreamErrors.CountAsync(e => e.UserId == user));
        Assert.Equal(3, await db.Usage.CountAsync(u => u.UserId == user));
    }
}
