using Aggregator.Web.Data;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Upstream.Usage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Aggregator.Web.Tests.Usage;

/// <summary>The app with a handle on its host, so a test can stop it and look at the database afterwards.</summary>
public sealed class StoppableApp : AppFactory
{
    public IHost Host { get; private set; } = null!;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Sync:SchedulerEnabled"] = "false" };

    protected override IHost CreateHost(IHostBuilder builder) => Host = base.CreateHost(builder);

    public UsageRecorder Recorder => Services.GetRequiredService<UsageRecorder>();

    /// <summary>Makes every usage insert fail (the table is renamed away), or undoes it.</summary>
    public async Task UsageTableAvailableAsync(bool available)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var rename = new NpgsqlCommand(available ? """ALTER TABLE "Usage_away" RENAME TO "Usage";""" : """ALTER TABLE "Usage" RENAME TO "Usage_away";""", connection);
        await rename.ExecuteNonQueryAsync();
    }

    /// <summary>Straight from PostgreSQL, so it also works after the host (and its services) are gone.</summary>
    public async Task<long> RowsAsync(string userId)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM \"Usage\" WHERE \"UserId\" = @user", connection);
        count.Parameters.AddWithValue("user", userId);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    public static UsageRecord Row(string userId) => new()
    {
        UserId = userId, Source = "test", CreatedAt = DateTime.UtcNow, Day = DateOnly.FromDateTime(DateTime.UtcNow), PromptTokens = 3, CompletionTokens = 4,
    };
}

/// <summary>Usage rows are never dropped: a batch the database refuses is retried, and what is queued at shutdown is written.</summary>
public sealed class UsageRecorderRetryTests(StoppableApp app) : IClassFixture<StoppableApp>
{
    [Fact]
    public async Task A_batch_the_database_refuses_is_kept_and_written_once_the_database_takes_it()
    {
        app.StartServer();
        var user = "retry-" + Guid.NewGuid().ToString("N");
        await app.UsageTableAvailableAsync(false);
        try
        {
            for (var i = 0; i < 3; i++) app.Recorder.Record(StoppableApp.Row(user));
            await Eventually.Until(() => app.Recorder.FailedAttempts > 0, "a failed write");
            Assert.Equal(3, app.Recorder.Pending);
        }
        finally
        {
            await app.UsageTableAvailableAsync(true);
        }
        await Eventually.Until(() => app.RowsAsync(user), n => n == 3, "the retried rows in the database");
        Assert.Equal(0, app.Recorder.Pending);
        Assert.Equal(0, app.Recorder.FailedAttempts);
    }
}

public sealed class UsageRecorderShutdownTests(StoppableApp app) : IClassFixture<StoppableApp>
{
    [Fact]
    public async Task Rows_still_queued_when_the_host_stops_are_written_before_it_has_stopped()
    {
        app.StartServer();
        var recorder = app.Recorder;
        var user = "shutdown-" + Guid.NewGuid().ToString("N");
        await app.UsageTableAvailableAsync(false);
        for (var i = 0; i < 5; i++) recorder.Record(StoppableApp.Row(user));
        await Eventually.Until(() => recorder.FailedAttempts > 0, "a failed write");

        var stopping = app.Host.StopAsync(); // the rows are still queued: the database refused them so far
        await app.UsageTableAvailableAsync(true);
        await stopping;

        Assert.Equal(5, await app.RowsAsync(user));
        Assert.Equal(0, recorder.Pending);
    }
}
