using Aggregator.E2E.Infrastructure;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Aggregator.E2E;

/// <summary>axe-core (WCAG 2.1 A and AA: labels, contrast, landmarks, names) on the shared pages, light and dark.</summary>
[Collection(BrowserCollection.Name)]
public sealed class AccessibilityTests(BrowserFixture browser, KestrelApp app) : BrowserTest(browser, app), IClassFixture<KestrelApp>
{
    static async Task AssertAccessibleAsync(IPage page, string what)
    {
        var result = await page.RunAxe(new AxeRunOptions
        {
            RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
        });
        var problems = result.Violations
            .Select(v => $"{v.Id} ({v.Impact}): {v.Help}\n    " + string.Join("\n    ", v.Nodes.Select(n => n.Html)))
            .ToList();
        Assert.True(problems.Count == 0, $"{what}:\n" + string.Join("\n", problems));
    }

    [Theory]
    [InlineData("light")]
    [InlineData("dark")]
    public Task Account_and_error_pages_pass_axe(string theme) => InBrowserAsync(async page =>
    {
        await page.GotoAsync("/Account/Login");
        await AssertAccessibleAsync(page, "login");

        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync(); // empty form: errors shown
        await page.GetByTestId("form-errors").WaitForAsync();
        await AssertAccessibleAsync(page, "login with errors");

        await page.GotoAsync("/Account/Register");
        await AssertAccessibleAsync(page, "register");

        await page.GotoAsync("/Error/404");
        await AssertAccessibleAsync(page, "error page");
    }, new BrowserNewContextOptions { ColorScheme = theme == "dark" ? ColorScheme.Dark : ColorScheme.Light });

    [Theory]
    [InlineData("light")]
    [InlineData("dark")]
    public Task Signed_in_layout_and_admin_users_page_pass_axe(string theme) => InBrowserAsync(async page =>
    {
        await RegisterAsync(page, $"a11y-{theme}-{Guid.NewGuid():N}@example.com");
        await page.GetByTestId("user-menu").WaitForAsync();
        await AssertAccessibleAsync(page, "home");

        await page.GetByTestId("user-menu").ClickAsync(); // open menu
        await AssertAccessibleAsync(page, "user menu open");

        await page.GotoAsync("/Account/ChangePassword");
        await AssertAccessibleAsync(page, "change password");

        await page.GotoAsync("/Account/Tokens");
        await page.GetByLabel("Name").FillAsync("a11y");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        await page.GetByTestId("new-token").WaitForAsync();
        await AssertAccessibleAsync(page, "API tokens with a new token");

        if (await page.GetByTestId("nav-admin").CountAsync() > 0)
        {
            await page.GotoAsync("/Admin/Users");
            await AssertAccessibleAsync(page, "admin users");
            await page.GotoAsync("/Admin/Tokens");
            await AssertAccessibleAsync(page, "admin API tokens");
        }
        else
        {
            await page.GotoAsync("/Admin/Users");
            await AssertAccessibleAsync(page, "403 page");
        }
    }, new BrowserNewContextOptions { ColorScheme = theme == "dark" ? ColorScheme.Dark : ColorScheme.Light });
}
