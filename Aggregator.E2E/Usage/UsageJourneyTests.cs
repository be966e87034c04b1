using System.Text.RegularExpressions;
using Aggregator.E2E.Infrastructure;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Usage;

/// <summary>The app on Kestrel with the mock upstream, a priced free model and a free tier of 5 messages a day.</summary>
public sealed class UsageKestrelApp : KestrelApp, IAsyncLifetime
{
    public MockUpstreamServer Mock { get; private set; } = null!;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Sync:SchedulerEnabled"] = "false", ["Admin:Email"] = "nobody-admin@example.invalid", ["Quotas:Free:MessagesPerDay"] = "5",
    };

    public async Task InitializeAsync()
    {
        Mock = await MockUpstreamServer.StartAsync();
        _ = BaseUrl; // starts Kestrel and migrates
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var provider = await ChatTestApp.SeedProviderAsync(db, scope.ServiceProvider.GetRequiredService<SecretBox>(), "mockusage", "Mock Usage", Mock.OpenAIUrl);
        var model = await ChatTestApp.AddModelAsync(db, provider, "gpt-4o-mini", "GPT-4o mini", Tier.Free);
        model.InputPricePerMTok = 1m;
        model.OutputPricePerMTok = 2m;
        await db.SaveChangesAsync();
        await scope.ServiceProvider.GetRequiredService<CatalogCache>().InvalidateAsync();
    }

    async Task IAsyncLifetime.DisposeAsync() => await Mock.DisposeAsync();

    public async Task<long> UsageRowsAsync(string email)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.Usage.LongCountAsync(u => db.Users.Any(x => x.Id == u.UserId && x.Email == email));
    }
}

/// <summary>Chat a few times, then the usage page shows it; the near-limit line appears by the composer when the day is nearly used.</summary>
[Collection(BrowserCollection.Name)]
public sealed class UsageJourneyTests(BrowserFixture browser, UsageKestrelApp app) : BrowserTest(browser, app), IClassFixture<UsageKestrelApp>
{
    static async Task SendAsync(IPage page, string text)
    {
        var count = await page.GetByTestId("message-assistant").CountAsync();
        var input = page.GetByTestId("composer-input");
        await input.FillAsync($"{text} mock:tokens=4");
        await input.PressAsync("Enter");
        await Expect(page.GetByTestId("message-assistant")).ToHaveCountAsync(count + 1);
        await Expect(page.GetByTestId("message-assistant").Last).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 20_000 });
    }

    [Fact]
    public async Task Chats_show_on_the_usage_page_and_the_composer_warns_near_the_daily_limit()
    {
        var email = $"usage-{Guid.NewGuid():N}@example.com";
        await InBrowserAsync(async page =>
        {
            await RegisterAsync(page, email);
            await page.GotoAsync("/");
            await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
            var summary = page.GetByTestId("limit-summary");
            for (var i = 1; i <= 3; i++) await SendAsync(page, $"question {i}");
            await Expect(summary).ToBeHiddenAsync(); // 3 of 5: far enough

            await SendAsync(page, "question 4");
            await Expect(summary).ToBeVisibleAsync();
            await Expect(summary).ToContainTextAsync("1 of 5 messages left today · resets 00:00 UTC");

            // The page's figures trail the chat by the recorder's batch: reload until the rows are in.
            await Eventually.Until(() => app.UsageRowsAsync(email), n => n == 4, "the four usage rows");
            await summary.GetByRole(AriaRole.Link, new() { Name = "See usage" }).ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/Account/Usage$")); // not the load event: a busy machine may hold a resource back
            await Expect(page.GetByTestId("total-requests")).ToHaveTextAsync("4");
            await Expect(page.GetByTestId("usage-models").GetByRole(AriaRole.Row, new() { Name = "GPT-4o mini" })).ToContainTextAsync("4");
            await Expect(page.GetByTestId("quota-messages").GetByTestId("quota-text")).ToHaveTextAsync("4 of 5 used · 1 left");
            await Expect(page.GetByTestId("chart-tokens")).ToBeVisibleAsync();
            await AssertNoSeriousViolationsAsync(page);

            await page.GetByTestId("period-today").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/Account/Usage\\?period=today$"));
            await Expect(page.GetByTestId("period-today")).ToHaveAttributeAsync("aria-current", "page");
            await Expect(page.GetByTestId("period-range")).ToContainTextAsync(DateTime.UtcNow.ToString("ddd d MMM", System.Globalization.CultureInfo.InvariantCulture));
            await Expect(page.GetByTestId("total-requests")).ToHaveTextAsync("4");
            await page.GetByTestId("period-90d").ClickAsync();
            await Expect(page.GetByTestId("period-90d")).ToHaveAttributeAsync("aria-current", "page");
            await Expect(page.GetByTestId("usage-days").Locator("tbody tr")).ToHaveCountAsync(1);

            // The account menu leads here too.
            await page.GetByTestId("user-menu").ClickAsync();
            await Expect(page.GetByTestId("nav-usage")).ToHaveAttributeAsync("href", "/Account/Usage");
        });
    }

    [Fact]
    public async Task A_new_account_sees_an_empty_usage_page_that_passes_an_axe_scan()
    {
        await InBrowserAsync(async page =>
        {
            await RegisterAsync(page, $"usage-empty-{Guid.NewGuid():N}@example.com");
            await page.GotoAsync("/Account/Usage?period=30d");
            await Expect(page.GetByTestId("usage-empty")).ToBeVisibleAsync();
            await Expect(page.GetByTestId("chart-tokens")).ToHaveCountAsync(0);
            await Expect(page.GetByTestId("quota-messages").GetByTestId("quota-text")).ToHaveTextAsync("0 of 5 used · 5 left");
            await AssertNoSeriousViolationsAsync(page);
        });
    }
}
