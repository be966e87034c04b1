using Aggregator.E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E;

[Collection(BrowserCollection.Name)]
public sealed class LoginTests(BrowserFixture browser, KestrelApp app) : BrowserTest(browser, app), IClassFixture<KestrelApp>
{
    [Fact]
    public Task Wrong_password_is_refused_and_the_right_one_signs_in() => InBrowserAsync(async page =>
    {
        var email = $"login-{Guid.NewGuid():N}@example.com";
        await RegisterAsync(page, email);
        await LogOutAsync(page);

        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync("Wrong-passw0rd");
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Expect(page.GetByTestId("form-errors")).ToContainTextAsync("Wrong email or password");
        await Expect(page.GetByTestId("user-menu")).ToHaveCountAsync(0);
        await Expect(page.GetByLabel("Password")).ToHaveValueAsync(""); // never echoed back

        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Expect(page.GetByTestId("user-menu")).ToContainTextAsync(email);
    });

    [Fact]
    public Task Theme_toggle_switches_to_dark_and_remembers_it() => InBrowserAsync(async page =>
    {
        await page.GotoAsync("/Account/Login");
        var html = page.Locator("html");
        await Expect(html).ToHaveAttributeAsync("data-bs-theme", "light");

        await page.Locator("[data-theme-toggle]").ClickAsync();
        await Expect(html).ToHaveAttributeAsync("data-bs-theme", "dark");
        Assert.Equal("dark", await page.EvaluateAsync<string>("() => localStorage.getItem('aggregator.theme')"));

        await page.ReloadAsync();
        await Expect(html).ToHaveAttributeAsync("data-bs-theme", "dark");
    }, new BrowserNewContextOptions { ColorScheme = ColorScheme.Light });

    [Fact]
    public Task Theme_follows_the_system_preference_by_default() => InBrowserAsync(async page =>
    {
        await page.GotoAsync("/Account/Login");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-bs-theme", "dark");
    }, new BrowserNewContextOptions { ColorScheme = ColorScheme.Dark });

    [Fact]
    public Task Phone_layout_collapses_the_navigation_behind_a_working_toggle() => InBrowserAsync(async page =>
    {
        await page.GotoAsync("/Account/Login");
        var register = page.Locator("#nav-main").GetByRole(AriaRole.Link, new() { Name = "Register" });
        await Expect(register).ToBeHiddenAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Toggle navigation" }).ClickAsync();
        await Expect(register).ToBeVisibleAsync();
    }, new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 390, Height = 844 }, IsMobile = true, HasTouch = true });
}
