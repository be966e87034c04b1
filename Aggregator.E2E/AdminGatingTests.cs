using System.Text.RegularExpressions;
using Aggregator.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E;

[Collection(BrowserCollection.Name)]
public sealed class AdminGatingTests(BrowserFixture browser, KestrelApp app) : BrowserTest(browser, app), IClassFixture<KestrelApp>
{
    [Fact]
    public Task First_user_becomes_admin_and_a_second_user_is_free_and_forbidden_admin_pages() => InBrowserAsync(async page =>
    {
        var admin = $"admin-{Guid.NewGuid():N}@example.com";
        await RegisterAsync(page, admin);

        await Expect(page.GetByTestId("user-menu")).ToContainTextAsync(admin);
        await Expect(page.GetByTestId("nav-admin")).ToBeVisibleAsync();
        await page.GetByTestId("nav-admin").ClickAsync();
        await page.WaitForURLAsync("**/Admin");
        await page.GetByRole(AriaRole.Link, new() { Name = "Users" }).First.ClickAsync();
        await page.WaitForURLAsync("**/Admin/Users");
        await Expect(page.GetByTestId("users-table")).ToContainTextAsync(admin);

        await LogOutAsync(page);
        var user = $"user-{Guid.NewGuid():N}@example.com";
        await RegisterAsync(page, user);

        await Expect(page.GetByTestId("user-menu")).ToContainTextAsync(user);
        await Expect(page.GetByTestId("tier-badge")).ToHaveTextAsync(new Regex("free", RegexOptions.IgnoreCase));
        await Expect(page.GetByTestId("tier-badge")).ToHaveClassAsync(new Regex(@"\btier-free\b"));
        await Expect(page.GetByTestId("nav-admin")).ToHaveCountAsync(0);

        foreach (var path in new[] { "/Admin", "/Admin/Users", "/Admin/Tokens" })
        {
            var response = await page.GotoAsync(path);
            Assert.Equal(403, response!.Status);
            await Expect(page.GetByTestId("error-code")).ToHaveTextAsync("403");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Forbidden" })).ToBeVisibleAsync();
        }
    });

    [Fact]
    public Task Signed_out_visitor_is_sent_to_log_in_from_admin_pages() => InBrowserAsync(async page =>
    {
        await page.GotoAsync("/Admin/Users");
        await page.WaitForURLAsync(new Regex(@"/Account/Login\?ReturnUrl=%2FAdmin%2FUsers", RegexOptions.IgnoreCase));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Welcome back" })).ToBeVisibleAsync();
    });
}
