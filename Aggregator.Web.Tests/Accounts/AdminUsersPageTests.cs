using System.Net;
using System.Text.RegularExpressions;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Accounts;

/// <summary>The app with its first account (the Admin) registered once for all tests of the class.</summary>
public sealed class AdminUsersApp : AppFactory
{
    readonly Lazy<Task<HttpClient>> _admin;
    public string AdminEmail { get; } = $"admin-{Guid.NewGuid():N}@example.com";
    public AdminUsersApp() => _admin = new(() => this.RegisterAsync(AdminEmail));
    public Task<HttpClient> AdminAsync() => _admin.Value;
}

/// <summary>/Admin/Users: search, paging, tier and role changes, each change audited.</summary>
public sealed partial class AdminUsersPageTests(AdminUsersApp app) : IAsyncLifetime, IClassFixture<AdminUsersApp>
{
    HttpClient _admin = null!;
    string _adminEmail => app.AdminEmail;
    readonly string _tag = Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync()
    {
        _admin = await app.AdminAsync();
        Assert.Equal(HttpStatusCode.OK, (await _admin.GetAsync("/Admin/Users")).StatusCode);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    async Task<AppUser> CreateUserAsync(string email)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = new AppUser { UserName = email, Email = email };
        Assert.True((await users.CreateAsync(user)).Succeeded);
        return user;
    }

    async Task<T> QueryAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    static IReadOnlyList<string> Rows(string html) => RowEmail().Matches(html).Select(m => m.Groups[1].Value).ToList();

    [Fact]
    public async Task Search_finds_users_by_part_of_the_email_in_any_case()
    {
        await CreateUserAsync($"needle-{_tag}@example.com");
        await CreateUserAsync($"haystack-{_tag}@example.com");

        var rows = Rows(await _admin.GetStringAsync($"/Admin/Users?q=NEEDLE-{_tag}"));
        Assert.Equal([$"needle-{_tag}@example.com"], rows);
        Assert.Empty(Rows(await _admin.GetStringAsync($"/Admin/Users?q=nobody-{_tag}")));
    }

    [Fact]
    public async Task Paging_shows_25_users_a_page_and_the_rest_on_the_next()
    {
        for (var i = 0; i < 27; i++) await CreateUserAsync($"page{i:00}-{_tag}@example.com");

        var first = Rows(await _admin.GetStringAsync($"/Admin/Users?q=-{_tag}@&p=1"));
        var second = Rows(await _admin.GetStringAsync($"/Admin/Users?q=-{_tag}@&p=2"));
        Assert.Equal(25, first.Count);
        Assert.Equal(2, second.Count);
        Assert.Empty(first.Intersect(second));
        Assert.Equal(second, Rows(await _admin.GetStringAsync($"/Admin/Users?q=-{_tag}@&p=99"))); // clamped to the last page
    }

    [Fact]
    public async Task Changing_a_tier_saves_it_and_audits_who_did_it()
    {
        var user = await CreateUserAsync($"tier-{_tag}@example.com");
        var response = await _admin.PostFormAsync("/Admin/Users", new Dictionary<string, string> { ["id"] = user.Id, ["tier"] = "Pro" }, "/Admin/Users?handler=Tier");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);

        Assert.Equal(Tier.Pro, await QueryAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.Tier).SingleAsync()));
        var entry = await QueryAsync(db => db.AuditLog.SingleAsync(a => a.Action == "user.tier" && a.EntityId == user.Id));
        Assert.Equal(_adminEmail, entry.ActorName);
        Assert.Contains("Free → Pro", entry.Details);

        // The user's own session sees the new tier once signed in again.
        var client = app.CreateBrowser();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var stored = await users.FindByIdAsync(user.Id);
            await users.AddPasswordAsync(stored!, "Passw0rd!x");
        }
        await client.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = user.Email!, ["Input.Password"] = "Passw0rd!x" });
        Assert.Contains("tier-pro", await client.GetStringAsync("/"));
    }

    [Fact]
    public async Task An_unknown_tier_or_user_is_refused()
    {
        var user = await CreateUserAsync($"bad-{_tag}@example.com");
        var badTier = await _admin.PostFormAsync("/Admin/Users", new Dictionary<string, string> { ["id"] = user.Id, ["tier"] = "42" }, "/Admin/Users?handler=Tier");
        Assert.Equal(HttpStatusCode.BadRequest, badTier.StatusCode);
        var noUser = await _admin.PostFormAsync("/Admin/Users", new Dictionary<string, string> { ["id"] = "missing", ["tier"] = "Max" }, "/Admin/Users?handler=Tier");
        Assert.Equal(HttpStatusCode.NotFound, noUser.StatusCode);
        Assert.Equal(Tier.Free, await QueryAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.Tier).SingleAsync()));
    }

    [Fact]
    public async Task Granting_and_revoking_admin_changes_the_role_and_is_audited()
    {
        var user = await CreateUserAsync($"role-{_tag}@example.com");
        async Task<bool> IsAdminAsync()
        {
            await using var scope = app.Services.CreateAsyncScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            return await users.IsInRoleAsync((await users.FindByIdAsync(user.Id))!, AccountExtensions.AdminRole);
        }

        await _admin.PostFormAsync("/Admin/Users", new Dictionary<string, string> { ["id"] = user.Id }, "/Admin/Users?handler=GrantAdmin");
        Assert.True(await IsAdminAsync());
        await _admin.PostFormAsync("/Admin/Users", new Dictionary<string, string> { ["id"] = user.Id }, "/Admin/Users?handler=RevokeAdmin");
        Assert.False(await IsAdminAsync());

        var actions = await QueryAsync(db => db.AuditLog.Where(a => a.EntityId == user.Id).OrderBy(a => a.Id).Select(a => a.Action).ToListAsync());
        Assert.Equal(["user.role.grant", "user.role.revoke"], actions);
    }

    [Fact]
    public async Task An_admin_cannot_revoke_their_own_role()
    {
        var me = await QueryAsync(db => db.Users.SingleAsync(u => u.Email == _adminEmail));
        await _admin.PostFormAsync("/Admin/Users", new Dictionary<string, string> { ["id"] = me.Id }, "/Admin/Users?handler=RevokeAdmin");
        Assert.Equal(HttpStatusCode.OK, (await _admin.GetAsync("/Admin/Users")).StatusCode);
        Assert.False(await QueryAsync(db => db.AuditLog.AnyAsync(a => a.EntityId == me.Id && a.Action == "user.role.revoke")));
    }

    [Fact]
    public async Task A_non_admin_cannot_post_admin_changes()
    {
        var user = await app.RegisterAsync($"sneaky-{_tag}@example.com");
        var me = await QueryAsync(db => db.Users.SingleAsync(u => u.Email == $"sneaky-{_tag}@example.com"));
        // A forged post (the antiforgery token of a page the user may open) still meets the Admin policy.
        var response = await user.PostFormAsync("/Account/ChangePassword", new Dictionary<string, string> { ["id"] = me.Id, ["tier"] = "Max" }, "/Admin/Users?handler=Tier");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(Tier.Free, await QueryAsync(db => db.Users.Where(u => u.Id == me.Id).Select(u => u.Tier).SingleAsync()));
    }

    [GeneratedRegex("<tr data-user=\"([^\"]+)\"")]
    private static partial Regex RowEmail();
}
