using System.Text.RegularExpressions;
using Aggregator.E2E.Infrastructure;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Chats;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Admin;

/// <summary>The app on Kestrel with a known Admin and the mock upstream as one provider with two models.</summary>
public sealed class DashboardKestrelApp : KestrelApp, IAsyncLifetime
{
    public const string AdminEmail = "dashboard-admin@example.com";
    public MockUpstreamServer Mock { get; private set; } = null!;
    public long MiniId { get; private set; }
    public long ChatId { get; private set; }

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Admin:Email"] = AdminEmail, ["Sync:SchedulerEnabled"] = "false",
    };

    public async Task InitializeAsync()
    {
        Mock = await MockUpstreamServer.StartAsync();
        _ = BaseUrl; // starts Kestrel and migrates
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var provider = await ChatTestApp.SeedProviderAsync(db, scope.ServiceProvider.GetRequiredService<SecretBox>(), "dashmock", "Dash Mock", Mock.OpenAIUrl);
        MiniId = (await ChatTestApp.AddModelAsync(db, provider, "gpt-4o-mini", "GPT-4o mini", Tier.Free)).Id;
        ChatId = (await ChatTestApp.AddModelAsync(db, provider, "deepseek-chat", "DeepSeek Chat", Tier.Free)).Id;
        await scope.ServiceProvider.GetRequiredService<CatalogCache>().InvalidateAsync();
    }

    async Task IAsyncLifetime.DisposeAsync() => await Mock.DisposeAsync();

    public async Task<T> DbAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        await using var scope = Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }
}

/// <summary>/Admin after real chats: charts drawn with data and their table, a filter that changes them, the CSV, axe.</summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardJourneyTests(BrowserFixture browser, DashboardKestrelApp app)
    : BrowserTest(browser, app), IClassFixture<DashboardKestrelApp>
{
    static async Task ChatAsync(IPage page, string model, string text)
    {
        await page.GotoAsync("/");
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
        await page.GetByTestId("model-button").ClickAsync();
        await page.GetByTestId("model-search").FillAsync(model);
        await page.GetByTestId("model-search").PressAsync("Enter");
        await Expect(page.GetByTestId("model-button")).ToContainTextAsync(model);
        await page.GetByTestId("composer-input").FillAsync(text);
        await page.GetByTestId("composer-input").PressAsync("Enter");
        await Expect(page.GetByTestId("message-assistant").Last).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 20_000 });
    }

    /// <summary>Non-blank pixels of a chart's canvas: Chart.js drew bars or a line, not just an empty box.</summary>
    static Task<int> InkAsync(IPage page, string chart) => page.EvaluateAsync<int>(@"(name) => {
        const canvas = document.querySelector(`canvas[data-chart=${name}]`);
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let ink = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
        return ink;
    }", chart);

    /// <summary>Registers the Admin in the first test of the class that runs, logs in in the other.</summary>
    async Task SignInAsAdminAsync(IPage page)
    {
        if (!await app.DbAsync(db => db.Users.AnyAsync(u => u.Email == DashboardKestrelApp.AdminEmail)))
        {
            await RegisterAsync(page, DashboardKestrelApp.AdminEmail);
            await page.WaitForURLAsync(new Regex("^(?!.*/Account/).*$"));
            return;
        }
        await page.GotoAsync("/Account/Login");
        await page.GetByLabel("Email").FillAsync(DashboardKestrelApp.AdminEmail);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("^(?!.*/Account/).*$"));
    }

    static Task<int> RequestsInTableAsync(IPage page) => page.EvaluateAsync<int>(
        "() => [...document.querySelectorAll('[data-testid=series-table] tbody tr')].reduce((sum, tr) => sum + Number(tr.cells[1].textContent), 0)");

    [Fact]
    public Task After_chats_the_dashboard_charts_them_filters_change_them_and_the_csv_has_their_rows() => InBrowserAsync(async page =>
    {
        await SignInAsAdminAsync(page);
        await ChatAsync(page, "GPT-4o mini", "First question mock:tokens=30");
        await ChatAsync(page, "DeepSeek Chat", "Second question mock:tokens=20");
        await ChatAsync(page, "DeepSeek Chat", "Third question mock:tokens=10");
        // Usage rows are written in batches: wait for all three.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (await app.DbAsync(db => db.Usage.CountAsync()) < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "usage rows not written");
            await page.WaitForTimeoutAsync(100);
        }

        await page.GotoAsync("/Admin?period=24h");
        await Expect(page.GetByTestId("total-requests")).ToHaveTextAsync("3");
        foreach (var chart in new[] { "requests", "tokens", "cost", "errors" })
            await Expect(page.Locator($"canvas[data-chart={chart}]")).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => document.querySelector('canvas[data-chart=requests]').width > 0");
        Assert.True(await InkAsync(page, "requests") > 0, "the requests chart is blank");
        // The table alternative: one row per hour, the chats in this hour's row.
        var rows = page.GetByTestId("series-table").Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(24);
        Assert.Equal(3, await RequestsInTableAsync(page));
        await Expect(page.GetByTestId("top-models").Locator("tbody tr")).ToHaveCountAsync(2);
        await Expect(page.GetByTestId("top-users")).ToContainTextAsync(DashboardKestrelApp.AdminEmail);
        var inkBefore = await InkAsync(page, "requests");

        await page.GetByTestId("filter-model").SelectOptionAsync(app.ChatId.ToString());
        await page.GetByTestId("apply-filters").ClickAsync();
        await page.WaitForURLAsync(new Regex($"model={app.ChatId}"));
        await Expect(page.GetByTestId("total-requests")).ToHaveTextAsync("2");
        await Expect(page.GetByTestId("top-models").Locator("tbody tr")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("top-models")).ToContainTextAsync("DeepSeek Chat");
        Assert.Equal(2, await RequestsInTableAsync(page));
        await page.WaitForFunctionAsync("() => document.querySelector('canvas[data-chart=requests]').width > 0");
        Assert.NotEqual(inkBefore, await InkAsync(page, "requests")); // a shorter bar

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("download-csv").ClickAsync());
        Assert.Matches(@"^usage-\d{4}-\d\d-\d\dT\d\d_\d{4}-\d\d-\d\dT\d\d\.csv$", download.SuggestedFilename);
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!);
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("created_at_utc,user_email,", lines[0]);
        Assert.Equal(3, lines.Length); // the header and the two DeepSeek chats
        Assert.All(lines[1..], l => Assert.Contains(",deepseek-chat,", l));
        Assert.All(lines[1..], l => Assert.Contains(DashboardKestrelApp.AdminEmail, l));

        await page.GetByText("The charts' figures as a table").ClickAsync();
        await AssertNoSeriousViolationsAsync(page);
    });

    [Fact]
    public Task A_period_without_usage_shows_an_empty_state_that_passes_axe() => InBrowserAsync(async page =>
    {
        await SignInAsAdminAsync(page);

        await page.GotoAsync("/Admin?period=custom&from=2001-01-01&to=2001-01-31");
        await Expect(page.GetByTestId("dashboard-empty")).ToBeVisibleAsync();
        await Expect(page.Locator("canvas")).ToHaveCountAsync(0);
        await Expect(page.Locator("#from")).ToBeVisibleAsync(); // custom: its day inputs show
        await page.GetByTestId("filter-period").SelectOptionAsync("30d");
        await Expect(page.Locator("#from")).ToBeHiddenAsync();
        await AssertNoSeriousViolationsAsync(page);
    });
}
