using System.Text.RegularExpressions;
using Aggregator.E2E.Infrastructure;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Admin;

/// <summary>Add, edit, disable and sync a provider in Chromium; the base-URL host guard; the admin pages at phone width.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ProviderEditTests(BrowserFixture browser, AdminApp app)
    : BrowserTest(browser, app), IClassFixture<AdminApp>, IAsyncLifetime
{
    readonly string _tag = Guid.NewGuid().ToString("N")[..8];
    MockUpstreamServer _mock = null!;
    MockUpstreamServer _elsewhere = null!;

    public async Task InitializeAsync()
    {
        _mock = await MockUpstreamServer.StartAsync(o => o.ModelCount = 30);
        _elsewhere = await MockUpstreamServer.StartAsync(o => o.ModelCount = 30);
    }

    public async Task DisposeAsync()
    {
        await _mock.DisposeAsync();
        await _elsewhere.DisposeAsync();
    }

    Task<Provider?> ProviderAsync(string name) => app.DbAsync(db => db.Providers.AsNoTracking().SingleOrDefaultAsync(p => p.Name == name));

    [Fact]
    public Task Add_provider_shows_field_errors_for_an_empty_form_then_takes_an_uppercase_slug_then_edit_and_disable() => InBrowserAsync(async page =>
    {
        var providersBefore = await app.DbAsync(db => db.Providers.CountAsync());
        await AdminApp.SignInAsAdminAsync(page, app, Password);
        await page.GotoAsync("/Admin/Providers/Edit");

        // The defect: an empty form was a 500 (NullReferenceException).
        var empty = await page.RunAndWaitForResponseAsync(
            () => page.GetByTestId("save-provider").ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(200, empty.Status);
        foreach (var field in new[] { "DisplayName", "Name", "BaseUrl" })
        {
            await Expect(page.GetByTestId("error-" + field)).ToBeVisibleAsync();
            await Expect(page.Locator($"#Input_{field}")).ToHaveClassAsync(new Regex(@"\bis-invalid\b"));
        }
        Assert.Equal(providersBefore, await app.DbAsync(db => db.Providers.CountAsync()));

        // The slug follows the display name as the admin types.
        await page.GetByLabel("Display name").PressSequentiallyAsync($"Mock Router {_tag}");
        await Expect(page.GetByLabel("Slug")).ToHaveValueAsync($"mock-router-{_tag}");
        // An uppercase slug is accepted and stored lowercased.
        var slug = $"MOCK-Up-{_tag.ToUpperInvariant()}";
        await page.GetByLabel("Slug").FillAsync(slug);
        await page.GetByLabel("Base URL").FillAsync(_mock.OpenAIUrl);
        await page.GetByTestId("save-provider").ClickAsync();
        await page.WaitForURLAsync(new Regex(@"/Admin/Providers/Details/\d+$"));
        var saved = await ProviderAsync(slug.ToLowerInvariant());
        Assert.NotNull(saved);
        Assert.Equal($"Mock Router {_tag}", saved.DisplayName);

        await page.GetByRole(AriaRole.Link, new() { Name = "Edit", Exact = true }).ClickAsync();
        await page.GetByLabel("Display name").FillAsync($"Renamed {_tag}");
        await Expect(page.GetByLabel("Slug")).ToHaveValueAsync(slug.ToLowerInvariant()); // an existing slug is kept
        await page.GetByTestId("save-provider").ClickAsync();
        await page.WaitForURLAsync(new Regex(@"/Admin/Providers/Details/\d+$"));
        Assert.Equal($"Renamed {_tag}", (await ProviderAsync(saved.Name))!.DisplayName);

        await page.GotoAsync("/Admin/Providers");
        await page.Locator($"tr[data-provider='{saved.Name}']").GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("is now disabled");
        Assert.False((await ProviderAsync(saved.Name))!.Enabled);
        var actions = await app.DbAsync(db => db.AuditLog.Where(a => a.EntityType == "provider" && a.EntityId == saved.Id.ToString())
            .OrderBy(a => a.Id).Select(a => a.Action).ToListAsync());
        Assert.Equal(["provider.create", "provider.update", "provider.disable"], actions);
    });

    [Fact]
    public Task A_base_url_on_another_host_is_saved_only_once_the_admin_types_that_host() => InBrowserAsync(async page =>
    {
        var name = "hosted-" + _tag;
        var (providerId, keyId) = await app.SeedProviderAsync(name, _mock.OpenAIUrl);
        var newHost = new Uri(_elsewhere.BaseUrl).Authority;
        await AdminApp.SignInAsAdminAsync(page, app, Password);
        await page.GotoAsync($"/Admin/Providers/Edit/{providerId}");

        await page.GetByLabel("Base URL").FillAsync(_elsewhere.OpenAIUrl);
        await page.GetByTestId("save-provider").ClickAsync();
        await Expect(page.GetByTestId("confirm-host-warning")).ToContainTextAsync($"will be sent to {newHost}");
        Assert.Equal(_mock.OpenAIUrl, (await ProviderAsync(name))!.BaseUrl);

        await page.GetByLabel("Confirm the new host").FillAsync("evil.example:443");
        await page.GetByTestId("save-provider").ClickAsync();
        await Expect(page.GetByTestId("error-ConfirmHost")).ToContainTextAsync($"That is not {newHost}");
        Assert.Equal(_mock.OpenAIUrl, (await ProviderAsync(name))!.BaseUrl);

        // Test uses the saved URL only: the unsaved host never sees the key.
        await page.GotoAsync($"/Admin/Providers/Details/{providerId}");
        await page.Locator($"tr[data-key='{keyId}']").GetByRole(AriaRole.Button, new() { Name = "Test" }).ClickAsync();
        await Expect(page.GetByTestId("status")).ToContainTextAsync("OK");
        Assert.Empty(_elsewhere.State.Received);
        Assert.NotEmpty(_mock.State.Received);

        await page.GotoAsync($"/Admin/Providers/Edit/{providerId}");
        await page.GetByLabel("Base URL").FillAsync(_elsewhere.OpenAIUrl);
        await page.GetByTestId("save-provider").ClickAsync();
        await page.GetByLabel("Confirm the new host").FillAsync(newHost);
        await page.GetByTestId("save-provider").ClickAsync();
        await page.WaitForURLAsync(new Regex(@"/Admin/Providers/Details/\d+$"));
        Assert.Equal(_elsewhere.OpenAIUrl, (await ProviderAsync(name))!.BaseUrl);
        var audit = await app.DbAsync(db => db.AuditLog.Where(a => a.Action == "provider.update" && a.EntityId == providerId.ToString()).SingleAsync());
        Assert.Contains($"keys now sent to {newHost} (confirmed)", audit.Details);
        Assert.Empty(_elsewhere.State.Received);
    });

    [Fact]
    public Task Sync_now_stores_the_providers_models() => InBrowserAsync(async page =>
    {
        var (providerId, _) = await app.SeedProviderAsync("sync-" + _tag, _mock.OpenAIUrl);
        await AdminApp.SignInAsAdminAsync(page, app, Password);
        await page.GotoAsync($"/Admin/Providers/Details/{providerId}");
        await page.GetByTestId("sync-now").ClickAsync();
        await Expect(page.GetByTestId("status")).ToContainTextAsync("Sync");

        var deadline = DateTime.UtcNow.AddSeconds(30);
        SyncRun? run = null;
        while (DateTime.UtcNow < deadline)
        {
            run = await app.DbAsync(db => db.SyncRuns.AsNoTracking().FirstOrDefaultAsync(r => r.ProviderId == providerId && r.Status != SyncRunStatus.Running));
            if (run is not null) break;
            await page.WaitForTimeoutAsync(100); // polling the database with a deadline, not a fixed wait
        }
        Assert.NotNull(run);
        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        Assert.Equal("manual", run.Trigger);
        Assert.Equal(_mock.State.ModelCount, await app.DbAsync(db => db.Models.CountAsync(m => m.ProviderId == providerId && m.Available)));
        Assert.True(await app.DbAsync(db => db.AuditLog.AnyAsync(a => a.Action == "provider.sync" && a.EntityId == providerId.ToString())));
    });

    [Fact]
    public Task Admin_pages_fit_a_phone_screen() => InBrowserAsync(async page =>
    {
        var (providerId, _) = await app.SeedProviderAsync("phone-" + _tag, _mock.OpenAIUrl);
        await app.DbAsync(async db => await Aggregator.Web.Tests.Chats.ChatTestApp.AddModelAsync(
            db, await db.Providers.SingleAsync(p => p.Id == providerId), $"phone-model-{_tag}-with-a-long-id", "Phone model", Tier.Free));
        await AdminApp.SignInAsAdminAsync(page, app, Password);
        foreach (var url in new[] { "/Admin", "/Admin/Providers", $"/Admin/Providers/Details/{providerId}", "/Admin/Providers/Edit", "/Admin/Models", "/Admin/Users", "/Admin/Audit" })
        {
            await page.GotoAsync(url);
            // Delete confirmations open, as an admin would open them.
            await page.EvaluateAsync("() => document.querySelectorAll('details').forEach(d => d.open = true)");
            var offenders = await page.EvaluateAsync<string[]>(@"() => [...document.querySelectorAll('table button, table a, table select, table input, table summary')]
                .filter(e => e.checkVisibility())
                .filter(e => { const r = e.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth; })
                .map(e => e.outerHTML.slice(0, 100))");
            var layout = await page.EvaluateAsync<int[]>(@"() => [
                document.documentElement.scrollWidth, window.innerWidth,
                [...document.querySelectorAll('table')].filter(t => !t.closest('.table-responsive')).length]");
            Assert.True(layout[0] <= layout[1], $"{url} is {layout[0]} px wide on a {layout[1]} px screen");
            Assert.True(layout[2] == 0, $"{url} has a table outside .table-responsive");
            // The defect: the key buttons, provider toggles and user forms sat off-screen in a sideways-scrolling table.
            Assert.True(offenders.Length == 0, $"{url} has table control(s) cut off at the screen edge: {string.Join("; ", offenders)}");
        }
    }, new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 375, Height = 740 }, IsMobile = true, HasTouch = true });
}
