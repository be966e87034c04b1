using Aggregator.Web.Data;
using Aggregator.Web.Features.Usage;
using Aggregator.Web.Upstream.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aggregator.Web.Tests.Usage;

/// <summary>The embedded default database answers the usage page's queries the same way.</summary>
public sealed class UsageReportSqliteTests
{
    sealed class Factory(Func<AppDbContext> create) : IDbContextFactory<AppDbContext>
    {
        public AppDbContext CreateDbContext() => create();
    }

    [Fact]
    public async Task The_report_sums_days_models_and_tokens_on_SQLite()
    {
        var file = Path.Combine(Path.GetTempPath(), $"aggregator-usage-{Guid.NewGuid():N}.db");
        try
        {
            var options = new DbContextOptionsBuilder<SqliteDbContext>().UseSqlite($"Data Source={file};Pooling=False").Options;
            await using (var db = new SqliteDbContext(options)) await db.Database.MigrateAsync();
            var factory = new Factory(() => new SqliteDbContext(options));
            var spend = new TokenSpend(factory, TimeProvider.System);
            var recorder = new UsageRecorder(factory, spend, TimeProvider.System, NullLogger<UsageRecorder>.Instance);
            var now = DateTime.UtcNow;
            UsageRecord Row(string user, DateTime at, long? token, int completion) => new()
            {
                UserId = user, ProviderId = 1, ModelId = 9, ApiTokenId = token, Source = token is null ? "chat" : "api", CreatedAt = at,
                Day = DateOnly.FromDateTime(at), PromptTokens = 10, CompletionTokens = completion, CostUsd = 0.000001m * completion,
            };
            recorder.Record(Row("me", now, null, 5));
            recorder.Record(Row("me", now.AddDays(-1), 3, 7));
            recorder.Record(Row("someone-else", now, null, 100));
            await recorder.FlushAsync();

            await using var read = new SqliteDbContext(options);
            var today = DateOnly.FromDateTime(now);
            var report = await UsageReport.LoadAsync(read, spend, "me",
                UsagePeriod.Parse("7d", today)!, CancellationToken.None);
            Assert.Equal(2, report.Total.Requests);
            Assert.Equal(32, report.Total.Tokens);
            Assert.Equal(0.000012m, report.Total.CostUsd);
            Assert.Equal(7, report.Days.Count);
            Assert.Equal(15, report.Days[^1].Figures.Tokens);
            Assert.Equal(17, report.Days[^2].Figures.Tokens);
            var model = Assert.Single(report.Models);
            Assert.Equal("(removed model)", model.Name);
            Assert.Empty(report.Tokens); // token 3 is nobody's token here: only the user's own tokens are listed
        }
        finally
        {
            File.Delete(file);
        }
    }
}
