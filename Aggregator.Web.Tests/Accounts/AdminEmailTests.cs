using System.Net;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Accounts;

public sealed class ConfiguredAdminApp : AppFactory
{
    public string AdminEmail { get; } = $"boss-{Guid.NewGuid():N}@example.com";
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Admin:Email"] = AdminEmail.ToUpperInvariant() };
}

/// <summary>A second app on another app's database (same secrets key), with Admin:Email set.</summary>
public sealed class RestartedWithAdminEmail(AppFactory original, string adminEmail) : AppFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["ConnectionStrings:Postgres"] = original.ConnectionString,
        ["Secrets:Key"] = original.SecretsKey,
        ["Admin:Email"] = adminEmail,
    };
}

public sealed class AdminEmailTests(ConfiguredAdminApp app) : IClassFixture<ConfiguredAdminApp>
{
    [Fact]
    public async Task Admin_Email_naming_an_existing_account_makes_it_Admin_at_the_next_start()
    {
        await using var original = new AppFactory();
        await original.RegisterAsync($"founder-{Guid.NewGuid():N}@example.com"); // first: Admin by the first-user rule
        var later = $"later-{Guid.NewGuid():N}@example.com";
        var client = await original.RegisterAsync(later);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/Admin/Users")).StatusCode);

        await using var restarted = new RestartedWithAdminEmail(original, later);
        await using var scope = restarted.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        Assert.True(await users.IsInRoleAsync((await users.FindByEmailAsync(later))!, AccountExtensions.AdminRole));
        var relogged = restarted.CreateBrowser();
        await relogged.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = later, ["Input.Password"] = "Passw0rd!x" });
        Assert.Equal(HttpStatusCode.OK, (await relogged.GetAsync("/Admin/Users")).StatusCode);
    }

    [Fact]
    public async Task With_Admin_Email_configured_that_account_is_admin_and_the_first_one_is_not()
    {
        var first = await app.RegisterAsync($"early-{Guid.NewGuid():N}@example.com");
        Assert.Equal(HttpStatusCode.Forbidden, (await first.GetAsync("/Admin/Users")).StatusCode);
        Assert.DoesNotContain("data-testid=\"nav-admin\"", await first.GetStringAsync("/"));

        var boss = await app.RegisterAsync(app.AdminEmail); // configured in another case: still matches
        Assert.Equal(HttpStatusCode.OK, (await boss.GetAsync("/Admin/Users")).StatusCode);
        Assert.Contains("data-testid=\"nav-admin\"", await boss.GetStringAsync("/"));

        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        Assert.Equal([app.AdminEmail], (await users.GetUsersInRoleAsync(AccountExtensions.AdminRole)).Select(u => u.Email));
        // The Admin granted at registration gets the highest tier; the other account stays free.
        Assert.Equal(Tier.Max, (await users.FindByEmailAsync(app.AdminEmail))!.Tier);
        Assert.Equal(Tier.Free, (await users.Users.SingleAsync(u => u.Email!.StartsWith("early-"))).Tier);
    }
}
