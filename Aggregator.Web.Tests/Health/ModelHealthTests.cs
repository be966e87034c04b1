using System.Net.Http.Json;
using System.Text.Json;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Features.Health;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Api;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Upstream.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Health;

/// <summary>The API test app with the background keeper off: each test runs a keeper pass itself.</summary>
public sealed class HealthTestApp : ApiTestApp
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Health:KeeperEnabled"] = "false", ["Health:Refresh"] = "00:00:00.100",
    };
}

/// <summary>
/// Live model health: figures from seeded usage rows and failed requests (the same on PostgreSQL and SQLite), the status
/// rule, the extension field of /v1/models, auto-hide and return with audit entries, and probes kept out of users' usage.
/// </summary>
public sealed class ModelHealthTests(HealthTestApp app) : IClassFixture<HealthTestApp>
{
    static readonly DateTime Now = new(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);

    /// <summary>
    /// In the hour: served 100/300/200/400 ms to first token (Complete, Complete, Stopped, Interrupted), one failed request,
    /// one failed attempt (not a request); five hours ago one more served; two days ago one outside both windows.
    /// </summary>
    static async Task SeedAsync(AppDbContext db, long modelId)
    {
        UsageRecord Served(int minutesAgo, UsageOutcome outcome, int ttft, int duration, int tokens, string source = "chat") => new()
        {
            UserId = "u", ProviderId = 1, ModelId = modelId, Source = source, CreatedAt = Now.AddMinutes(-minutesAgo),
            Day = DateOnly.FromDateTime(Now.AddMinutes(-minutesAgo)), Outcome = outcome, TimeToFirstTokenMs = ttft, DurationMs = duration,
            CompletionTokens = tokens, PromptTokens = 5,
        };
        UpstreamError Failed(int minutesAgo, bool request) => new()
        {
            ProviderId = 1, ModelId = modelId, Source = "chat", CreatedAt = Now.AddMinutes(-minutesAgo), Day = DateOnly.FromDateTime(Now),
            RequestFailed = request, ErrorClass = request ? "UpstreamFailed" : "ServerError", StatusCode = 500,
        };
        db.Usage.AddRange(
            Served(5, UsageOutcome.Complete, 100, 1100, 50),     // 50 tok/s
            Served(10, UsageOutcome.Complete, 300, 1300, 100),   // 100 tok/s
            Served(20, UsageOutcome.Stopped, 200, 700, 10),      // 20 tok/s
            Served(30, UsageOutcome.Interrupted, 400, 900, 5),   // 10 tok/s, not a success
            Served(300, UsageOutcome.Complete, 1000, 2000, 100), // day only: 100 tok/s
            Served(60 * 48, UsageOutcome.Complete, 9, 10, 1));   // outside the day
        db.UpstreamErrors.AddRange(Failed(15, request: true), Failed(16, request: false));
        await db.SaveChangesAsync();
    }

    static void AssertFigures(ModelHealth h)
    {
        Assert.Equal(new HealthFigures(5, 3, 250, 35), h.Hour);
        Assert.Equal(new HealthFigures(6, 4, 300, 50), h.Day);
        Assert.Equal(HealthStatus.Degraded, h.Status); // 60% ok: not failing, below 90%
        Assert.Equal("60% ok of 5 · TTFT 250 ms · 35 tok/s, last hour", h.Summary());
    }

    [Fact]
    public async Task Figures_come_from_served_rows_and_failed_requests_on_PostgreSQL()
    {
        var modelId = Random.Shared.NextInt64(1_000_000, 2_000_000_000);
        var health = await app.QueryAsync(async db =>
        {
            await SeedAsync(db, modelId);
            return await ModelHealthQuery.RunAsync(db, Now, new HealthOptions(), CancellationToken.None);
        });
        AssertFigures(health[modelId]);
    }

    [Fact]
    public async Task Figures_come_from_served_rows_and_failed_requests_on_SQLite()
    {
        var file = Path.Combine(Path.GetTempPath(), $"aggregator-health-{Guid.NewGuid():N}.db");
        try
        {
            var options = new DbContextOptionsBuilder<SqliteDbContext>().UseSqlite($"Data Source={file};Pooling=False").Options;
            await using var db = new SqliteDbContext(options);
            await db.Database.MigrateAsync();
            await SeedAsync(db, 42);
            var health = await ModelHealthQuery.RunAsync(db, Now, new HealthOptions(), CancellationToken.None);
            AssertFigures(Assert.Single(health).Value);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData(0, 0, null, HealthStatus.NoRecentTraffic)]
    [InlineData(3, 1, 300, HealthStatus.Failing)]     // 33% over three requests
    [InlineData(2, 0, null, HealthStatus.Degraded)]   // 0% but two requests are not evidence enough for failing
    [InlineData(4, 2, 300, HealthStatus.Degraded)]    // 50% is not below 50%
    [InlineData(10, 9, 300, HealthStatus.Healthy)]    // 90%
    [InlineData(100, 89, 300, HealthStatus.Degraded)] // 89%
    [InlineData(10, 10, 10_001, HealthStatus.Degraded)] // slow first token
    public void The_status_follows_the_thresholds(int requests, int succeeded, int? ttft, HealthStatus expected) =>
        Assert.Equal(expected, ModelHealth.Judge(new HealthFigures(requests, succeeded, ttft, null), new HealthOptions()));

    [Fact]
    public async Task A_model_without_traffic_has_no_recent_traffic_and_v1_models_carries_the_field()
    {
        var user = await app.UserAsync(Tier.Pro);
        var (secret, _) = await app.TokenAsync(user);
        // Three failed requests for the free model in the last few minutes: failing; the pro model has none.
        await app.QueryAsync(async db =>
        {
            for (var i = 0; i < 3; i++)
                db.UpstreamErrors.Add(new UpstreamError
                {
                    ProviderId = 1, ModelId = app.FreeModelId, Source = "chat", CreatedAt = DateTime.UtcNow.AddMinutes(-i - 1),
                    Day = DateOnly.FromDateTime(DateTime.UtcNow), RequestFailed = true, ErrorClass = "UpstreamFailed", StatusCode = 500,
                });
            return await db.SaveChangesAsync();
        });
        var board = await app.Services.GetRequiredService<ModelHealthBoard>().RefreshAsync(CancellationToken.None);
        Assert.Equal(HealthStatus.Failing, board.Of(app.FreeModelId).Status);
        Assert.Equal(HealthStatus.NoRecentTraffic, board.Of(app.ProModelId).Status);

        // The official client still reads the list (it ignores the extension field)…
        var ids = (await app.OpenAI(secret).GetOpenAIModelClient().GetModelsAsync()).Value.Select(m => m.Id).ToList();
        Assert.Contains("mock/gpt-4o-mini", ids);
        // …and the raw JSON carries it.
        using var doc = JsonDocument.Parse(await app.Api(secret).GetStringAsync("/v1/models"));
        JsonElement Of(string id) => doc.RootElement.GetProperty("data").EnumerateArray().Single(m => m.GetProperty("id").GetString() == id)
            .GetProperty("aggregator_health");
        var failing = Of("mock/gpt-4o-mini");
        Assert.Equal("failing", failing.GetProperty("status").GetString());
        Assert.Equal(3, failing.GetProperty("last_hour").GetProperty("requests").GetInt32());
        Assert.Equal(0, failing.GetProperty("last_hour").GetProperty("success_rate").GetDouble());
        Assert.Equal("no_recent_traffic", Of("mock/gpt-4o").GetProperty("status").GetString());

        // The selector's feed says the same, with the text a screen reader hears.
        var feed = await user.Http.GetFromJsonAsync<JsonElement>("/api/catalog/health");
        var entry = feed.GetProperty("models").GetProperty(app.FreeModelId.ToString());
        Assert.Equal("failing", entry.GetProperty("s").GetString());
        Assert.Equal("failing", entry.GetProperty("label").GetString());
        Assert.StartsWith("0% ok of 3", entry.GetProperty("figures").GetString());
        Assert.False(feed.GetProperty("models").TryGetProperty(app.ProModelId.ToString(), out _));
    }

    [Fact]
    public async Task A_model_failing_for_its_window_is_hidden_and_comes_back_with_audit_entries()
    {
        // The provider's only key answers 500, so the keeper's probes of the hidden model fail too.
        var (provider, model) = await app.QueryAsync(async db =>
        {
            var p = await ChatTestApp.SeedProviderAsync(db, app.Services.GetRequiredService<SecretBox>(), "fault=500", "Flaky AI", app.Mock.OpenAIUrl);
            p.AutoHideFailingMinutes = 10;
            var m = await ChatTestApp.AddModelAsync(db, p, "flaky-model", "Flaky", Tier.Free);
            var now = DateTime.UtcNow;
            foreach (var minutesAgo in new[] { 20, 15, 12 })
                db.UpstreamErrors.Add(new UpstreamError
                {
                    ProviderId = p.Id, ModelId = m.Id, Source = "chat", CreatedAt = now.AddMinutes(-minutesAgo), Day = DateOnly.FromDateTime(now),
                    RequestFailed = true, ErrorClass = "UpstreamFailed", StatusCode = 500,
                });
            await db.SaveChangesAsync();
            return (p, m);
        });
        var keeper = app.Services.GetRequiredService<HealthKeeper>();
        var catalog = app.Services.GetRequiredService<CatalogCache>();
        await catalog.InvalidateAsync();
        Assert.NotNull((await catalog.GetAsync(Tier.Max)).Find(model.Id));

        var pass = await keeper.PassAsync(CancellationToken.None);
        Assert.Equal(1, pass.Hidden);
        var hidden = await app.QueryAsync(db => db.Models.AsNoTracking().SingleAsync(m => m.Id == model.Id));
        Assert.NotNull(hidden.HealthHiddenAt);
        Assert.False(hidden.Hidden); // the admin's own flag is never touched
        var hideEntry = await app.QueryAsync(db => db.AuditLog.AsNoTracking().SingleAsync(a => a.Action == "model.health-hide" && a.EntityId == model.Id.ToString()));
        Assert.Contains("hidden: failing since", hideEntry.Details);
        await PollAsync(async () => (await catalog.GetAsync(Tier.Max)).Find(model.Id) is null, "the catalogue drops the hidden model");

        // Served again (traffic or a probe): back in the catalogue, with an entry saying so.
        await app.Services.GetRequiredService<UsageRecorder>().FlushAsync(); // the failed probe's rows come before the success
        await app.QueryAsync(db =>
        {
            db.Usage.Add(new UsageRecord
            {
                UserId = "someone", ProviderId = provider.Id, ModelId = model.Id, Source = "chat", CreatedAt = DateTime.UtcNow,
                Day = DateOnly.FromDateTime(DateTime.UtcNow), Outcome = UsageOutcome.Complete, TimeToFirstTokenMs = 100, DurationMs = 500, CompletionTokens = 10,
            });
            return db.SaveChangesAsync();
        });
        pass = await keeper.PassAsync(CancellationToken.None);
        Assert.Equal(1, pass.Shown);
        Assert.Null((await app.QueryAsync(db => db.Models.AsNoTracking().SingleAsync(m => m.Id == model.Id))).HealthHiddenAt);
        var showEntry = await app.QueryAsync(db => db.AuditLog.AsNoTracking().SingleAsync(a => a.Action == "model.health-show" && a.EntityId == model.Id.ToString()));
        Assert.Contains("shown again: healthy since", showEntry.Details);
        await PollAsync(async () => (await catalog.GetAsync(Tier.Max)).Find(model.Id) is not null, "the catalogue lists the model again");
    }

    [Fact]
    public async Task A_probe_counts_toward_health_but_never_toward_a_user()
    {
        var model = await app.QueryAsync(async db =>
        {
            var p = await ChatTestApp.SeedProviderAsync(db, app.Services.GetRequiredService<SecretBox>(), "probed", "Probed AI", app.Mock.OpenAIUrl);
            p.HealthProbe = true;
            var m = await ChatTestApp.AddModelAsync(db, p, "deepseek-chat", "Quiet", Tier.Max);
            await db.SaveChangesAsync();
            return m;
        });
        await app.Services.GetRequiredService<CatalogCache>().InvalidateAsync(); // the routing table learns the new provider
        var before = app.Mock.State.Received.Count;

        var pass = await app.Services.GetRequiredService<HealthKeeper>().PassAsync(CancellationToken.None);
        Assert.True(pass.Probed >= 1);
        await app.Services.GetRequiredService<UsageRecorder>().FlushAsync();

        var sent = app.Mock.State.Received.Skip(before).Where(r => r.Path.EndsWith("/chat/completions")).ToList();
        var probe = Assert.Single(sent, r => r.Body.Contains("\"deepseek-chat\""));
        Assert.Contains("\"max_tokens\":1", probe.Body.Replace(" ", ""));
        // Providers without the setting are not probed: nothing for the mock provider's quiet models.
        Assert.DoesNotContain(sent, r => r.Body.Contains("\"gpt-4o\""));

        var rows = await app.QueryAsync(db => db.Usage.AsNoTracking().Where(u => u.ModelId == model.Id).ToListAsync());
        var errors = await app.QueryAsync(db => db.UpstreamErrors.AsNoTracking().Where(u => u.ModelId == model.Id).Select(e => e.ErrorClass + " " + e.StatusCode).ToListAsync());
        Assert.True(rows.Count == 1, $"usage rows {rows.Count}, errors: {string.Join(", ", errors)}");
        var row = rows[0];
        Assert.Equal("probe", row.Source);
        Assert.Equal("", row.UserId); // no account: no user's usage page, quota or cost sees it
        Assert.All(await app.QueryAsync(db => db.UsageDaily.AsNoTracking().Where(d => d.ModelId == model.Id).ToListAsync()),
            d => Assert.Equal(("", "probe"), (d.UserId, d.Source)));
        var board = await app.Services.GetRequiredService<ModelHealthBoard>().RefreshAsync(CancellationToken.None);
        Assert.Equal(1, board.Of(model.Id).Hour.Requests);
        Assert.Equal(HealthStatus.Healthy, board.Of(model.Id).Status);
        Assert.Null(board.Of(model.Id).Hour.TokensPerSecond); // a one-token reply says nothing about speed
    }

    static async Task PollAsync(Func<Task<bool>> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException(what);
            await Task.Delay(50);
        }
    }
}
