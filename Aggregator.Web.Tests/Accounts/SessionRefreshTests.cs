using System.Net;
using Aggregator.Web.Data;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Aggregator.Web.Tests.Accounts;

/// <summary>The app with a clock the test moves, for the security stamp validator (runs once a minute per cookie).</summary>
public sealed class ClockedApp : AppFactory
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.Configure<SecurityStampValidatorOptions>(o => o.TimeProvider = Clock));
    }
}

/// <summary>Tier and role changes reach a signed-in user's session within a minute, without signing them out.</summary>
public sealed class SessionRefreshTests(ClockedApp app) : IClassFixture<ClockedApp>
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

        app.Clock.Advance(TimeSpan.FromMinutes(2));
        var home = await member.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, home.StatusCode); // still signed in
        var html = await home.Content.ReadAsStringAsync();
        Assert.Contains("tier-max", html);
        Assert.Contains("data-testid=\"nav-admin\"", html);
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync("/Admin/Users")).StatusCode);

        // Revoking reaches the session the same way: the Admin pages close within a minute.
        await admin.PostFormAsync("/Admin/Users", new Dictionary<string, string> { ["id"] = id }, "/Admin/Users?handler=RevokeAdmin");
        app.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync("/Admin/Users")).StatusCode);
    }
}
