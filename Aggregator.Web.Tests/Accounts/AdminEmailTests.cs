using System.Net;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Accounts;

public sealed class ConfiguredAdminApp : AppFactory
{
    public string AdminEmail { get; } = $"boss-{Guid.NewGuid():N}@example.com";
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Admin:Email"] = AdminEmail.ToUpperInvariant() };
}

public sealed class AdminEmailTests(ConfiguredAdminApp app) : IClassFixture<ConfiguredAdminApp>
{
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
    }
}
