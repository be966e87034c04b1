using Aggregator.E2E.Infrastructure;
using Aggregator.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E;

/// <summary>
/// The layout at laptop and phone widths, light and dark. Screenshots go to TestResults/e2e-artifacts
/// so a person can look at them after a run.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class LayoutTests(BrowserFixture browser, KestrelApp app) : BrowserTest(browser, app), IClassFixture<KestrelApp>
{
    async Task SeedUsersAsync()
    {
        await using var scope = App.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var people = new (string Email, Tier Tier)[]
        {
            ("ada@example.com", Tier.Max), ("grace@example.com", Tier.Pro), ("linus@example.com", Tier.Free),
            ("margaret@example.com", Tier.Pro), ("dennis@example.com", Tier.Free), ("barbara@example.com", Tier.Free),
        };
        foreach (var (email, tier) in people)
            await users.CreateAsync(new AppUser { UserName = email, Email = email, Tier = tier, CreatedAt = DateTime.UtcNow });
    }

    [Fact]
    public async Task Admin_pages_fit_a_laptop_and_a_phone_in_both_themes()
    {
        var admin = "admin@example.com";
        await InBrowserAsync(async page =>
        {
            await RegisterAsync(page, admin);
            await Expect(page.GetByTestId("nav-admin")).ToBeVisibleAsync();
        });
        await SeedUsersAsync();

        foreach (var (name, viewport, scheme) in new[]
                 {
                     ("laptop-light", new ViewportSize { Width = 1280, Height = 800 }, ColorScheme.Light),
                     ("laptop-dark", new ViewportSize { Width = 1280, Height = 800 }, ColorScheme.Dark),
                     ("phone-light", new ViewportSize { Width = 390, Height = 844 }, ColorScheme.Light),
                     ("phone-dark", new ViewportSize { Width = 390, Height = 844 }, ColorScheme.Dark),
                 })
        {
            await InBrowserAsync(async page =>
            {
                await page.GotoAsync("/Account/Login");
                await page.GetByLabel("Email").FillAsync(admin);
                await page.GetByLabel("Password").FillAsync(Password);
                await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
                await page.GotoAsync("/Admin/Users");
                await Expect(page.GetByTestId("users-table")).ToContainTextAsync("ada@example.com");
                await Expect(page.Locator("html")).ToHaveAttributeAsync("data-bs-theme", scheme == ColorScheme.Dark ? "dark" : "light");

                // Nothing sticks out sideways: the page never scrolls horizontally.
                var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
                Assert.True(overflow <= 0, $"{name}: page is {overflow}px wider than the viewport");

                var folder = ArtifactsFolder();
                Directory.CreateDirectory(folder);
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"layout-{name}.png") });
            }, new BrowserNewContextOptions { ViewportSize = viewport, ColorScheme = scheme }, name);
        }
    }
}
