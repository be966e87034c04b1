using System.Net;
using Aggregator.Web.Tests.Infrastructure;

namespace Aggregator.Web.Tests.Accounts;

public sealed class AccountTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task First_user_is_admin_and_second_is_a_free_user_denied_admin_pages()
    {
        var first = await app.RegisterAsync($"first-{Guid.NewGuid():N}@example.com");
        var adminPage = await first.GetAsync("/Admin/Users");
        Assert.Equal(HttpStatusCode.OK, adminPage.StatusCode);

        var second = await app.RegisterAsync($"second-{Guid.NewGuid():N}@example.com");
        var home = await second.GetStringAsync("/");
        Assert.Contains("data-testid=\"tier-badge\"", home);
        Assert.Contains(">free<", home);
        Assert.Equal(HttpStatusCode.Forbidden, (await second.GetAsync("/Admin/Users")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await second.GetAsync("/Admin")).StatusCode);
    }
}
