using Aggregator.E2E.Infrastructure;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Aggregator.Web.Tests.Chats;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Admin;

/// <summary>Every button on the keys, users and models pages, clicked in Chromium, its effect read back from the database.</summary>
[Collection(BrowserCollection.Name)]
public sealed class AdminButtonsTests(BrowserFixture browser, AdminApp app)
    : BrowserTest(browser, app), IClassFixture<AdminApp>, IAsyncLifetime
{
    readonly string _tag = Guid.NewGuid().ToString("N")[..8];
    MockUpstreamServer _mock = null!;

    public async Task InitializeAsync() => _mock = await MockUpstreamServer.StartAsync(o => o.ModelCount = 30);
    public async Task DisposeAsync() => await _mock.DisposeAsync();

    Task<ApiKey> KeyAsync(long id) => app.DbAsync(db => db.ApiKeys.AsNoTracking().SingleAsync(k => k.Id == id));

    [Fact]
    public Task Key_disable_enable_test_and_delete_do_what_they_say() => InBrowserAsync(async page =>
    {
        var (providerId, keyId) = await app.SeedProviderAsync("keys-" + _tag, _mock.OpenAIUrl);
        var hint = (await KeyAsync(keyId)).MaskedHint;
        await AdminApp.SignInAsAdminAsync(page, app, Password);
        await page.GotoAsync($"/Admin/Providers/Details/{providerId}");
        var row = page.Locator($"tr[data-key='{keyId}']");

        await row.GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
        await Expect(page.GetByTestId("status")).ToContainTextAsync("is now disabled");
        Assert.False((await KeyAsync(keyId)).Active);

        // The defect: the hidden "active" field rendered as value="value", so Enable disabled the key again.
        await row.GetByRole(AriaRole.Button, new() { Name = "Enable" }).ClickAsync();
        await Expect(page.GetByTestId("status")).ToContainTextAsync("is now active");
        var enabled = await KeyAsync(keyId);
        Assert.True(enabled.Active);
        Assert.Null(enabled.DisabledReason);

        _mock.State.Clear();
        await row.GetByRole(AriaRole.Button, new() { Name = "Test" }).ClickAsync();
        // Named as the admin knows it, not by its database id.
        await Expect(page.GetByTestId("status")).ToContainTextAsync($"Test of test key ({hint}): OK");
        Assert.Contains(_mock.State.Received, r => r.Path.EndsWith("/models", StringComparison.Ordinal));
        Assert.True(await app.DbAsync(db => db.AuditLog.AnyAsync(a => a.Action == "key.test" && a.EntityId == keyId.ToString())));

        await row.Locator("summary", new() { HasText = "Delete" }).ClickAsync();
        await row.GetByRole(AriaRole.Button, new() { Name = $"Really delete {hint}" }).ClickAsync();
        await Expect(page.GetByTestId("status")).ToContainTextAsync("was deleted");
        await Expect(page.Locator($"tr[data-key='{keyId}']")).ToHaveCountAsync(0);
        Assert.NotNull((await KeyAsync(keyId)).DeletedAt);
        var actions = await app.DbAsync(db => db.AuditLog.Where(a => a.EntityType == "api_key" && a.EntityId == keyId.ToString())
            .OrderBy(a => a.Id).Select(a => a.Action).ToListAsync());
        Assert.Equal(["key.disable", "key.enable", "key.test", "key.delete"], actions);
    });

    [Fact]
    public Task Grant_and_revoke_admin_and_change_tier_on_the_users_page() => InBrowserAsync(async page =>
    {
        var email = $"member-{_tag}@example.com";
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            Assert.True((await users.CreateAsync(new AppUser { UserName = email, Email = email }, Password)).Succeeded);
        }
        async Task<(bool Admin, Tier Tier)> StateAsync()
        {
            await using var scope = app.Services.CreateAsyncScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var user = (await users.FindByEmailAsync(email))!;
            return (await users.IsInRoleAsync(user, AccountExtensions.AdminRole), user.Tier);
        }

        await AdminApp.SignInAsAdminAsync(page, app, Password);
        await page.GotoAsync("/Admin/Users?q=" + Uri.EscapeDataString(email));
        var row = page.Locator($"tr[data-user='{email}']");

        // The defect: the hidden "admin" field rendered as value="value" and bound to false.
        await row.GetByRole(AriaRole.Button, new() { Name = "Make admin" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("is now an Admin");
        Assert.True((await StateAsync()).Admin);

        await row.GetByRole(AriaRole.Button, new() { Name = "Revoke admin" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("is no longer an Admin");
        Assert.False((await StateAsync()).Admin);

        await row.GetByLabel($"Tier of {email}").SelectOptionAsync("Pro");
        await row.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("pro tier");
        Assert.Equal(Tier.Pro, (await StateAsync()).Tier);

        var actions = await app.DbAsync(db => db.AuditLog.Where(a => a.EntityType == "user" && a.Details!.StartsWith(email))
            .OrderBy(a => a.Id).Select(a => a.Action).ToListAsync());
        Assert.Equal(["user.role.grant", "user.role.revoke", "user.tier"], actions);
    });

    [Fact]
    public Task Bulk_hide_show_and_tier_change_reach_every_matching_model() => InBrowserAsync(async page =>
    {
        var (providerId, _) = await app.SeedProviderAsync("bulk-" + _tag, _mock.OpenAIUrl);
        var ids = new List<long>();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var provider = await db.Providers.SingleAsync(p => p.Id == providerId);
            foreach (var suffix in new[] { "a", "b", "c" })
                ids.Add((await ChatTestApp.AddModelAsync(db, provider, $"bulk-{_tag}-{suffix}", $"Bulk {suffix}", Tier.Free)).Id);
            ids.Add((await ChatTestApp.AddModelAsync(db, provider, $"other-{_tag}", "Other", Tier.Free)).Id);
        }
        Task<List<AiModel>> ModelsAsync() => app.DbAsync(db => db.Models.AsNoTracking().Where(m => ids.Contains(m.Id)).OrderBy(m => m.ModelId).ToListAsync());
        var bulk = page.GetByTestId("bulk");

        async Task ApplyAsync(string action, string? tier = null)
        {
            await bulk.GetByLabel("Bulk action", new() { Exact = true }).SelectOptionAsync(action);
            if (tier is not null) await bulk.GetByLabel("Tier for bulk action").SelectOptionAsync(tier);
            await bulk.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
            await Expect(page.GetByTestId("status")).ToContainTextAsync("3 model(s) updated");
        }

        await AdminApp.SignInAsAdminAsync(page, app, Password);
        await page.GotoAsync($"/Admin/Models?q=bulk-{_tag}-*");
        await Expect(page.GetByTestId("models-total")).ToHaveTextAsync("(3)");

        await ApplyAsync("hide");
        Assert.Equal([true, true, true, false], (await ModelsAsync()).Select(m => m.Hidden));
        await ApplyAsync("show");
        Assert.All(await ModelsAsync(), m => Assert.False(m.Hidden));
        await ApplyAsync("tier", "Pro");
        Assert.Equal([Tier.Pro, Tier.Pro, Tier.Pro, Tier.Free], (await ModelsAsync()).Select(m => m.TierRequired));
        Assert.Equal(3, await app.DbAsync(db => db.AuditLog.CountAsync(a => a.Action == "model.bulk" && a.Details!.Contains(_tag))));
    });
}
