using System.Text.RegularExpressions;
using Aggregator.E2E.Infrastructure;
using Aggregator.MockUpstream;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Admin;

[Collection(BrowserCollection.Name)]
public sealed class ProvidersJourneyTests(BrowserFixture browser, KestrelApp app)
    : BrowserTest(browser, app), IClassFixture<KestrelApp>, IAsyncLifetime
{
    MockUpstreamServer _mock = null!;

    public async Task InitializeAsync() => _mock = await MockUpstreamServer.StartAsync(o => o.ModelCount = 378);
    public async Task DisposeAsync() => await _mock.DisposeAsync();

    static readonly string[] AdminUrls =
        ["/Admin", "/Admin/Users", "/Admin/Providers", "/Admin/Providers/Edit", "/Admin/Providers/Details/1", "/Admin/Models", "/Admin/Audit"];

    [Fact]
    public Task Admin_adds_an_aggregator_key_and_its_models_appear_with_the_count() => InBrowserAsync(async page =>
    {
        await RegisterAsync(page, $"admin-{Guid.NewGuid():N}@example.com");
        await page.GotoAsync("/Admin/Providers");
        await page.GetByTestId("add-provider").ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Custom (OpenAI-compatible)" }).ClickAsync();
        await page.GetByLabel("Display name").FillAsync("Mock Router");
        await page.GetByLabel("Slug").FillAsync("mock-router");
        await page.GetByLabel("Base URL").FillAsync(_mock.OpenRouterUrl);
        await page.GetByTestId("save-provider").ClickAsync();
        await page.WaitForURLAsync(new Regex("/Admin/Providers/Details/\\d+$"));

        await page.GetByLabel("API key").FillAsync("sk-or-v1-e2e-0123456789abcdef");
        await page.GetByTestId("add-key").ClickAsync();

        // The sync runs in the background; the page updates itself with the count.
        await Expect(page.GetByTestId("provider-model-count")).ToHaveTextAsync("378", new() { Timeout = 30_000 });
        await Expect(page.GetByTestId("keys-table")).ToContainTextAsync("sk-…cdef");
        await Expect(page.GetByTestId("keys-table")).Not.ToContainTextAsync("0123456789abcdef");

        await page.GotoAsync("/Admin/Providers");
        await Expect(page.Locator("[data-provider=mock-router] [data-testid=model-count]")).ToHaveTextAsync("378");

        await page.GotoAsync("/Admin/Models?q=claude-*");
        await Expect(page.GetByTestId("models-table")).ToContainTextAsync("claude");
        await page.GetByTestId("bulk").GetByLabel("Bulk action", new() { Exact = true }).SelectOptionAsync("tier");
        await page.GetByTestId("bulk").GetByLabel("Tier for bulk action").SelectOptionAsync("Pro");
        await page.GetByTestId("bulk").GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(page.GetByTestId("status")).ToContainTextAsync("model(s) updated");

        await page.GotoAsync("/Admin/Audit");
        await Expect(page.GetByTestId("audit-table")).ToContainTextAsync("key.add");
        await Expect(page.GetByTestId("audit-table")).ToContainTextAsync("model.bulk");
    });

    [Fact]
    public Task A_signed_in_non_admin_gets_403_on_every_admin_url() => InBrowserAsync(async page =>
    {
        await RegisterAsync(page, $"first-{Guid.NewGuid():N}@example.com"); // may be the admin if first in this database
        await LogOutAsync(page);
        await RegisterAsync(page, $"user-{Guid.NewGuid():N}@example.com");
        foreach (var url in AdminUrls)
        {
            var response = await page.GotoAsync(url);
            Assert.True(response!.Status == 403, $"{url} answered {response.Status}");
        }
    });
}
