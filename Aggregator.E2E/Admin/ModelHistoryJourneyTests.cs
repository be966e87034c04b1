using Aggregator.E2E.Infrastructure;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Security;
using Aggregator.Web.Upstream.Sync;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Admin;

/// <summary>An admin opens a model from the models list and reads what two syncs did to it.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ModelHistoryJourneyTests(BrowserFixture browser, KestrelApp app)
    : BrowserTest(browser, app), IClassFixture<KestrelApp>, IAsyncLifetime
{
    MockUpstreamServer _mock = null!;

    public async Task InitializeAsync() => _mock = await MockUpstreamServer.StartAsync(o => o.ModelCount = 60);
    public async Task DisposeAsync() => await _mock.DisposeAsync();

    async Task<T> WithDbAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        using var scope = App.Services.CreateScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    async Task SyncAsync(int providerId)
    {
        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<ModelSync>().SyncAsync(providerId, "test", CancellationToken.None);
        Assert.Equal(SyncOutcome.Succeeded, result.Outcome);
    }

    [Fact]
    public Task The_admin_opens_a_model_from_the_list_and_sees_its_history_after_two_syncs() => InBrowserAsync(async page =>
    {
        await RegisterAsync(page, $"admin-{Guid.NewGuid():N}@example.com"); // the first account of this database: Admin
        var providerId = await WithDbAsync(async db =>
        {
            var box = App.Services.GetRequiredService<SecretBox>();
            const string secret = "sk-history-0000000000000001";
            var provider = new Provider { Name = "hist-" + Guid.NewGuid().ToString("N")[..8], DisplayName = "History Mock", BaseUrl = _mock.OpenRouterUrl, ListShape = ModelListShape.OpenRouter };
            db.ApiKeys.Add(new ApiKey { Provider = provider, Name = "k", EncryptedSecret = box.Encrypt(secret), SecretFingerprint = box.Fingerprint(secret), MaskedHint = SecretBox.Mask(secret) });
            await db.SaveChangesAsync();
            return provider.Id;
        });
        await SyncAsync(providerId);
        var before = _mock.State.Models.ToDictionary(m => m.OpenRouterId);
        _mock.State.Mutate();
        await SyncAsync(providerId);
        var changed = _mock.State.Models.First(m => before.TryGetValue(m.OpenRouterId, out var old) && old != m);
        var model = await WithDbAsync(db => db.Models.SingleAsync(m => m.ProviderId == providerId && m.ModelId == changed.OpenRouterId));
        var change = await WithDbAsync(db => db.ModelChanges.SingleAsync(c => c.ModelId == model.Id && c.Kind == ModelChangeKind.Changed));
        var field = ModelDiff.FromJson(change.Changes)[0];

        await page.GotoAsync($"/Admin/Models?provider={providerId}&q={Uri.EscapeDataString(changed.OpenRouterId)}");
        await page.Locator($"tr[data-model='{changed.OpenRouterId}']").GetByTestId("model-link").ClickAsync();

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/Admin/Models/{model.Id}$"));
        await Expect(page.GetByTestId("model-metadata")).ToContainTextAsync(changed.OpenRouterId);
        var rows = page.GetByTestId("model-history").Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.Nth(0).GetByTestId("change-kind")).ToHaveTextAsync("metadata changed"); // newest first
        await Expect(rows.Nth(0).Locator($"li[data-field='{field.Field}']")).ToContainTextAsync($"{field.Field}: {field.Before} → {field.After}");
        await Expect(rows.Nth(1).GetByTestId("change-kind")).ToHaveTextAsync("added");
        await Expect(rows.Nth(0).GetByRole(AriaRole.Link, new() { Name = $"#{change.SyncRunId}" }))
            .ToHaveAttributeAsync("href", $"/Admin/Providers/Details/{providerId}#run-{change.SyncRunId}");
        await AssertNoSeriousViolationsAsync(page);
    });
}
