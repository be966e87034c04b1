using System.Net;
using Aggregator.Web.Data;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Admin;

/// <summary>A fresh server: the first account and what it sees before any admin change.</summary>
public sealed class FirstAdminTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task The_first_account_is_the_Admin_on_the_max_tier_and_the_empty_audit_log_says_so()
    {
        var email = $"owner-{Guid.NewGuid():N}@example.com";
        var admin = await app.RegisterAsync(email);
        var second = $"second-{Guid.NewGuid():N}@example.com";
        await app.RegisterAsync(second);

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            Assert.Equal(Tier.Max, (await users.FindByEmailAsync(email))!.Tier);
            Assert.Equal(Tier.Free, (await users.FindByEmailAsync(second))!.Tier);
        }
        Assert.Contains("tier-max", await admin.GetStringAsync("/"));

        var audit = await admin.GetAsync("/Admin/Audit");
        Assert.Equal(HttpStatusCode.OK, audit.StatusCode);
        Assert.Contains("data-testid=\"audit-empty\"", await audit.Content.ReadAsStringAsync());
    }
}
