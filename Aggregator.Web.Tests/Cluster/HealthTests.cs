using System.Net;
using System.Text.Json;
using Aggregator.Web.Tests.Infrastructure;
using Npgsql;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>/health/live and /health/ready: anonymous, JSON per check, no connection details.</summary>
public sealed class HealthTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task Readiness_names_the_database_and_Redis_healthy_and_liveness_answers_without_a_session()
    {
        var http = app.CreateClient();
        var ready = await Eventually.Until(() => RedisOutageTests.ReadinessAsync(app), r => r.Status == "Healthy", "ready");
        Assert.Equal(HttpStatusCode.OK, ready.Code);
        Assert.Equal("Healthy", ready.Checks["database"].Status);
        Assert.Contains("migrations applied", ready.Checks["database"].Description);
        Assert.Equal("Healthy", ready.Checks["redis"].Status);

        var body = await http.GetStringAsync("/health/ready");
        Assert.DoesNotContain(app.DatabaseName, body);
        Assert.DoesNotContain(TestServers.Redis, body);
        Assert.DoesNotContain("Host=", body, StringComparison.OrdinalIgnoreCase);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        request.Headers.AcceptEncoding.ParseAdd("gzip, br");
        var live = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var doc = JsonDocument.Parse(await live.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", doc.RootElement.GetProperty("status").GetString());
        Assert.Empty(doc.RootElement.GetProperty("checks").EnumerateObject());
        Assert.Empty(live.Content.Headers.ContentEncoding); // a probe's few bytes are not compressed
    }
}

/// <summary>A node whose database falls behind its migrations, then disappears: not ready, still live.</summary>
public sealed class DatabaseLossHealthTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task Readiness_is_unhealthy_with_a_migration_missing_then_with_the_database_gone_while_liveness_stays_up()
    {
        app.StartServer();
        await using (var db = new NpgsqlConnection(app.ConnectionString))
        {
            await db.OpenAsync();
            await using var forget = new NpgsqlCommand(
                "DELETE FROM \"__EFMigrationsHistory\" WHERE \"MigrationId\" = (SELECT max(\"MigrationId\") FROM \"__EFMigrationsHistory\")", db);
            Assert.Equal(1, await forget.ExecuteNonQueryAsync());
        }
        var behind = await RedisOutageTests.ReadinessAsync(app);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, behind.Code);
        Assert.Equal("Unhealthy", behind.Status);
        Assert.Contains("1 migration(s) not applied", behind.Checks["database"].Description);

        await using (var admin = new NpgsqlConnection(TestServers.Postgres))
        {
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE \"{app.DatabaseName}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }
        var gone = await RedisOutageTests.ReadinessAsync(app);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, gone.Code);
        Assert.Contains("PostgreSQL unreachable", gone.Checks["database"].Description);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().GetAsync("/health/live")).StatusCode);
    }
}
