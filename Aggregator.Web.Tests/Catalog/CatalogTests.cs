using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Catalog;

public sealed class CatalogTests(CatalogTests.App app) : IClassFixture<CatalogTests.App>
{
    /// <summary>Providers in every state the catalogue must tell apart; no upstream is ever called.</summary>
    public sealed class App : AppFactory, IAsyncLifetime
    {
        public long Free, Pro, Max, Hidden, Unavailable, Embedding, OfDisabledProvider, OfKeylessProvider, OfDeletedKeyProvider;
        public int ProviderId;

        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Sync:SchedulerEnabled"] = "false" };

        public async Task InitializeAsync()
        {
            _ = Server;
            await using var scope = Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var secrets = scope.ServiceProvider.GetRequiredService<SecretBox>();
            var hub = await ChatTestApp.SeedProviderAsync(db, secrets, "hub", "AiHubMix", "http://127.0.0.1:9/v1");
            ProviderId = hub.Id;
            Free = (await ChatTestApp.AddModelAsync(db, hub, "gpt-4o-mini", "GPT-4o mini", Tier.Free, caps: ModelCapabilities.Vision | ModelCapabilities.Tools)).Id;
            Pro = (await ChatTestApp.AddModelAsync(db, hub, "claude-sonnet", "Claude Sonnet", Tier.Pro)).Id;
            Max = (await ChatTestApp.AddModelAsync(db, hub, "o3-pro", "o3 pro", Tier.Max, caps: ModelCapabilities.Reasoning)).Id;
            Hidden = (await ChatTestApp.AddModelAsync(db, hub, "hidden-1", "Hidden", Tier.Free, hidden: true)).Id;
            Unavailable = (await ChatTestApp.AddModelAsync(db, hub, "gone-1", "Gone", Tier.Free, available: false)).Id;
            Embedding = (await ChatTestApp.AddModelAsync(db, hub, "text-embedding-3", "Embedding", Tier.Free, type: ModelType.Embedding)).Id;

            var disabled = await ChatTestApp.SeedProviderAsync(db, secrets, "off", "Disabled", "http://127.0.0.1:9/v1", enabled: false);
            OfDisabledProvider = (await ChatTestApp.AddModelAsync(db, disabled, "m-off", "Off", Tier.Free)).Id;
            var keyless = await ChatTestApp.SeedProviderAsync(db, secrets, "nokey", "No key", "http://127.0.0.1:9/v1", withKey: false);
            OfKeylessProvider = (await ChatTestApp.AddModelAsync(db, keyless, "m-nokey", "No key", Tier.Free)).Id;
            var deletedKey = await ChatTestApp.SeedProviderAsync(db, secrets, "delkey", "Deleted key", "http://127.0.0.1:9/v1");
            await db.ApiKeys.Where(k => k.ProviderId == deletedKey.Id).ExecuteUpdateAsync(s => s.SetProperty(k => k.DeletedAt, DateTime.UtcNow).SetProperty(k => k.Active, false));
            OfDeletedKeyProvider = (await ChatTestApp.AddModelAsync(db, deletedKey, "m-delkey", "Deleted key", Tier.Free)).Id;
            var direct = await ChatTestApp.SeedProviderAsync(db, secrets, "openai", "OpenAI", "http://127.0.0.1:9/v1", kind: ProviderKind.Direct);
            await ChatTestApp.AddModelAsync(db, direct, "gpt-4.1", "GPT-4.1", Tier.Free);
            await scope.ServiceProvider.GetRequiredService<CatalogCache>().InvalidateAsync();
        }

        Task IAsyncLifetime.DisposeAsync() => Task.CompletedTask;
    }

    static async Task<JsonElement> CatalogAsync(HttpClient client)
    {
        var response = await client.GetAsync("/api/catalog");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    static Dictionary<long, JsonElement> Models(JsonElement catalog) =>
        catalog.GetProperty("groups").EnumerateArray().SelectMany(g => g.GetProperty("m").EnumerateArray())
            .ToDictionary(m => m[0].GetInt64());

    [Fact]
    public async Task A_free_user_sees_usable_models_grouped_with_counts_and_higher_tiers_locked()
    {
        var user = await ChatUser.CreateAsync(app, Tier.Free);
        var catalog = await CatalogAsync(user.Http);

        var groups = catalog.GetProperty("groups").EnumerateArray().ToList();
        Assert.Equal(["OpenAI", "AiHubMix"], groups.Select(g => g.GetProperty("n").GetString())); // direct first
        Assert.Equal(3, groups[1].GetProperty("c").GetInt32());
        var models = Models(catalog);
        Assert.Equal(0, models[app.Free][6].GetInt32());
        Assert.Equal(1, models[app.Pro][6].GetInt32());
        Assert.Equal("pro", models[app.Pro][5].GetString());
        Assert.Equal(1, models[app.Max][6].GetInt32());
        Assert.Equal((int)(ModelCapabilities.Vision | ModelCapabilities.Tools), models[app.Free][3].GetInt32());
        Assert.Equal(128_000, models[app.Free][4].GetInt32());
        foreach (var absent in new[] { app.Hidden, app.Unavailable, app.Embedding, app.OfDisabledProvider, app.OfKeylessProvider, app.OfDeletedKeyProvider })
            Assert.False(models.ContainsKey(absent), $"model {absent} should not be offered");
    }

    [Fact]
    public async Task A_pro_user_has_pro_models_unlocked_but_max_models_still_locked()
    {
        var user = await ChatUser.CreateAsync(app, Tier.Pro);
        var models = Models(await CatalogAsync(user.Http));
        Assert.Equal(0, models[app.Pro][6].GetInt32());
        Assert.Equal(1, models[app.Max][6].GetInt32());
    }

    [Fact]
    public async Task The_catalogue_is_revalidated_by_etag_and_needs_a_signed_in_user()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateBrowser().GetAsync("/api/catalog")).StatusCode);
        var user = await ChatUser.CreateAsync(app, Tier.Free);
        var first = await user.Http.GetAsync("/api/catalog");
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/catalog");
        request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue(etag.Tag));
        var second = await user.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async Task The_catalogue_is_served_from_cache_until_a_committed_save_or_an_invalidation()
    {
        var user = await ChatUser.CreateAsync(app, Tier.Free);
        await CatalogAsync(user.Http); // warm
        long added;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            // A tracked save refreshes the catalogue by itself (CommittedChangesInterceptor).
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var provider = await db.Providers.SingleAsync(p => p.Id == app.ProviderId);
            added = (await ChatTestApp.AddModelAsync(db, provider, $"new-{Guid.NewGuid():N}", "Brand new", Tier.Free)).Id;
        }
        Assert.True(Models(await CatalogAsync(user.Http)).ContainsKey(added));

        await using (var scope = app.Services.CreateAsyncScope())
        {
            // A bulk statement bypasses the change tracker: the cache serves the old list until invalidated.
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            await db.Models.Where(m => m.Id == added).ExecuteDeleteAsync();
        }
        Assert.True(Models(await CatalogAsync(user.Http)).ContainsKey(added));
        await app.Services.GetRequiredService<CatalogCache>().InvalidateAsync();
        Assert.False(Models(await CatalogAsync(user.Http)).ContainsKey(added));
    }

    [Fact]
    public async Task Concurrent_requests_after_invalidation_all_get_the_same_catalogue()
    {
        var cache = app.Services.GetRequiredService<CatalogCache>();
        await cache.InvalidateAsync();
        var views = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => cache.GetAsync(Tier.Free).AsTask()));
        Assert.Single(views.Select(v => v.ETag).Distinct());
        Assert.All(views, v => Assert.Equal(views[0].ModelCount, v.ModelCount));
    }
}
