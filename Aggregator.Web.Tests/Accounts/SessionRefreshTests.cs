using System.Net;
using Aggregator.Web.Data;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Accounts;

/// <summary>Tier and role changes reach a signed-in user's session on the next request, without signing them out.</summary>
public sealed class SessionRefreshTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task A_tier_or_role_change_by_an_admin_reaches_the_users_session_and_keeps_them_signed_in()
    {
        var admin = await app.RegisterAsync($"admin-{Guid.NewGuid():N}@example.com");
        var email = $"member-{Guid.NewGuid():N}@example.com";
        var member = await app.RegisterAsync(email);
        Assert.Contains("tier-free", await member.GetStringAsync("/"));

        string id;
        await using (var scope = app.Services.CreateAsyncScope())
            id = (await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email))!.Id;
        await admin.PostFormAsync("/Admin/Users", new Dictionary<string, string> { ["id"] = id, ["tier"] = "Max" }, "/Admin/Users?handler=Tier");
        await admin.PostFormAsync("/Admin/Users", new Dictionary<string, string> { ["id"] = id }, "/Admin/Users?handler=GrantAdmin");

        var home = await member.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, home.StatusCode); // still signed in
        var html = await home.Content.ReadAsStringAsync();
        Assert.Contains("tier-max", html);
        Assert.Contains("data-testid=\"nav-admin\"", html);
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync("/Admin/Users")).StatusCode);

        // Revoking reaches the session the same way: the Admin pages close on the next request.
        await admin.PostFormAsync("/Admin/Users", new Dictionary<string, string> { ["id"] = id }, "/Admin/Users?handler=RevokeAdmin");
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync("/Admin/Users")).StatusCode);
    }
}
