using Aggregator.E2E.Infrastructure;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Sync;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Admin;

/// <summary>A provider's page around its first sync: what "Sync now" says without a key, and the live update after the first key.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ProviderSyncJourneyTests(BrowserFixture browser, KestrelApp app)
    : BrowserTest(browser, app), IClassFixture<KestrelApp>, IAsyncLifetime
{
    MockUpstreamServer _mock = null!;

    public async Task InitializeAsync() => _mock = await MockUpstreamServer.StartAsync(o => o.ModelCount = 378);
    public async Task DisposeAsync() => await _mock.DisposeAsync();

    async Task<T> WithDbAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        using var scope = App.Services.CreateScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    [Fact]
    public Task Sync_now_without_a_key_says_so_and_the_first_key_updates_every_figure_live() => InBrowserAsync(async page =>
    {
        await RegisterAsync(page, $"admin-{Guid.NewGuid():N}@example.com"); // the first account of this database: Admin
        var providerId = await WithDbAsync(async db =>
        {
            var provider = new Provider { Name = "live-" + Guid.NewGuid().ToString("N")[..8], DisplayName = "Live Mock", BaseUrl = _mock.OpenAIUrl, ListShape = ModelListShape.OpenAI };
            db.Providers.Add(provider);
            await db.SaveChangesAsync();
            return provider.Id;
        });
        await page.GotoAsync($"/Admin/Providers/Details/{providerId}");

        // Without a key: a clear instruction, and nothing queued or run.
        await page.GetByTestId("sync-now").ClickAsync();
        await Expect(page.GetByTestId("warning")).ToContainTextAsync("Add an active API key first");
        await Expect(page.GetByTestId("status")).ToHaveCountAsync(0);
        Assert.False(App.Services.GetRequiredService<SyncScheduler>().IsPending(providerId));
        Assert.Equal(0, await WithDbAsync(db => db.SyncRuns.CountAsync(r => r.ProviderId == providerId)));

        // The first key: the sync is slowed so the page surely loads while it runs, then updates itself.
        var secret = "sk-live-" + Guid.NewGuid().ToString("N");
        _mock.State.SetKeyFault(secret, "slow:1500");
        await page.GetByLabel("API key").FillAsync(secret);
        await page.GetByTestId("add-key").ClickAsync();
        await Expect(page.GetByTestId("sync-message")).ToHaveTextAsync("Sync running…");
        await page.EvaluateAsync("() => { window.notReloaded = true; }");

        await Expect(page.GetByTestId("sync-message")).ToContainTextAsync("Synced: 378 added", new() { Timeout = 30_000 });

        Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page reloaded instead of updating itself");
        var (provider, run, available, stored) = await WithDbAsync(async db => (
            await db.Providers.SingleAsync(p => p.Id == providerId),
            await db.SyncRuns.SingleAsync(r => r.ProviderId == providerId),
            await db.Models.CountAsync(m => m.ProviderId == providerId && m.Available),
            await db.Models.CountAsync(m => m.ProviderId == providerId)));
        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        await Expect(page.GetByTestId("provider-model-count")).ToHaveTextAsync(available.ToString());
        await Expect(page.GetByTestId("provider-stored-count")).ToHaveTextAsync(stored.ToString());
        await Expect(page.GetByTestId("provider-last-sync")).ToHaveTextAsync(provider.LastSyncedAt!.Value.ToString("yyyy-MM-dd HH:mm"));
        var row = page.Locator($"[data-testid=sync-runs] tr[data-run='{run.Id}']");
        await Expect(row.GetByTestId("run-status")).ToContainTextAsync("succeeded");
        await Expect(row.GetByTestId("run-added")).ToHaveTextAsync("378");
        await Expect(row.GetByTestId("run-duration")).ToHaveTextAsync($"{run.DurationMs:N0} ms");
        Assert.True(run.DurationMs >= 1500, $"the run took {run.DurationMs} ms with a 1.5 s upstream");
    });
}
