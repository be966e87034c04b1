using System.Text.RegularExpressions;
using Aggregator.E2E.Infrastructure;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Features.Health;
using Aggregator.Web.Security;
using Aggregator.Web.Upstream.Usage;
using Deque.AxeCore.Playwright;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Health;

/// <summary>Two providers on the mock: "Steady" answers, "Broken" has one key the mock answers 500 for.</summary>
public sealed class HealthKestrelApp : KestrelApp, IAsyncLifetime
{
    public const string AdminEmail = "health-admin@example.com";
    public MockUpstreamServer Mock { get; private set; } = null!;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Sync:SchedulerEnabled"] = "false", ["Admin:Email"] = AdminEmail,
        ["Health:KeeperEnabled"] = "false", ["Health:Refresh"] = "00:00:00.200",
    };

    public async Task InitializeAsync()
    {
        Mock = await MockUpstreamServer.StartAsync();
        _ = BaseUrl;
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var secrets = scope.ServiceProvider.GetRequiredService<SecretBox>();
        await SeedAsync(db, secrets, "steady", "Steady AI", "sk-mock-steady", "gpt-4o-mini", "Steady Mini");
        await SeedAsync(db, secrets, "broken", "Broken AI", "sk-mock-fault=500-broken", "gpt-4o", "Broken GPT");
        await scope.ServiceProvider.GetRequiredService<CatalogCache>().InvalidateAsync();
    }

    async Task SeedAsync(AppDbContext db, SecretBox secrets, string name, string displayName, string secret, string modelId, string modelName)
    {
        var now = DateTime.UtcNow;
        var provider = new Provider { Name = name, DisplayName = displayName, BaseUrl = Mock.OpenAIUrl, ApiStandard = ApiStandard.OpenAI };
        provider.Keys.Add(new ApiKey
        {
            Name = "e2e key", EncryptedSecret = secrets.Encrypt(secret), SecretFingerprint = secrets.Fingerprint(secret), MaskedHint = SecretBox.Mask(secret),
        });
        provider.Models.Add(new AiModel
        {
            ModelId = modelId, DisplayName = modelName, Type = ModelType.Chat, ContextWindow = 128_000,
            FirstSeenAt = now, LastSeenAt = now, UpdatedAt = now, ContentHash = "e2e",
        });
        db.Providers.Add(provider);
        await db.SaveChangesAsync();
    }

    /// <summary>Usage rows are written in batches: write them, then recompute the health the selector reads.</summary>
    public async Task SettleHealthAsync()
    {
        await Services.GetRequiredService<UsageRecorder>().FlushAsync();
        await Services.GetRequiredService<ModelHealthBoard>().RefreshAsync(CancellationToken.None);
    }

    async Task IAsyncLifetime.DisposeAsync() => await Mock.DisposeAsync();
}

[Collection(BrowserCollection.Name)]
public sealed class HealthJourneyTests(BrowserFixture browser, HealthKestrelApp app) : BrowserTest(browser, app), IClassFixture<HealthKestrelApp>
{
    static async Task PickAsync(IPage page, string search, string name)
    {
        await page.GetByTestId("model-button").ClickAsync();
        await page.GetByTestId("model-search").FillAsync(search);
        await Expect(page.GetByTestId("model-list").GetByRole(AriaRole.Option).First).ToContainTextAsync(name);
        await page.GetByTestId("model-search").PressAsync("Enter");
        await Expect(page.GetByTestId("model-button")).ToContainTextAsync(name);
    }

    static async Task SendAsync(IPage page, string text)
    {
        var input = page.GetByTestId("composer-input");
        await input.FillAsync(text);
        await input.PressAsync("Enter");
    }

    /// <summary>Opens the selector on one model (searched for) and returns its option, active as the keyboard leaves it.</summary>
    static async Task<ILocator> OptionAsync(IPage page, string search)
    {
        await page.GetByTestId("model-button").ClickAsync();
        await page.GetByTestId("model-search").FillAsync(search);
        return page.GetByTestId("model-list").GetByRole(AriaRole.Option).First;
    }

    [Fact]
    public Task The_selector_shows_a_failing_model_as_failing_and_a_healthy_one_with_its_figures() => InBrowserAsync(async page =>
    {
        await RegisterAsync(page, HealthKestrelApp.AdminEmail);
        await page.GotoAsync("/");
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");

        // A few chats with the model whose only key answers 500: each fails.
        await PickAsync(page, "Broken", "Broken GPT");
        for (var i = 1; i <= 3; i++)
        {
            await SendAsync(page, $"Attempt {i}");
            await Expect(page.GetByTestId("message-assistant").Nth(i - 1)).ToHaveAttributeAsync("data-status", new Regex("failed", RegexOptions.IgnoreCase),
                new() { Timeout = 60_000 });
        }
        // And one served chat with the steady model, in a new conversation.
        await page.GotoAsync("/");
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
        await PickAsync(page, "Steady", "Steady Mini");
        await SendAsync(page, "Hello mock:tokens=20 mock:tps=100"); // paced: a burst can end within the millisecond of its first token, leaving no rate to measure
        await Expect(page.GetByTestId("message-assistant").Last).ToHaveAttributeAsync("data-status", new Regex("complete", RegexOptions.IgnoreCase),
            new() { Timeout = 60_000 });
        await app.SettleHealthAsync();

        // Failing: a visible word (not colour alone), and in the option's accessible name.
        var broken = await OptionAsync(page, "Broken");
        await Expect(broken.Locator(".model-health")).ToHaveTextAsync(new Regex("failing"));
        await Expect(broken).ToHaveAccessibleNameAsync(new Regex("Broken GPT.*failing"));
        await Expect(broken).ToHaveAccessibleDescriptionAsync(new Regex(@"^0% ok of 3.*last hour"));
        await AssertNoSeriousViolationsAsync(page);
        await page.Keyboard.PressAsync("Escape");

        // Healthy, with its figures shown while the option has keyboard focus (active), and as its description.
        var steady = await OptionAsync(page, "Steady");
        await Expect(steady).ToHaveAccessibleNameAsync(new Regex("Steady Mini.*healthy"));
        await Expect(steady).ToHaveClassAsync(new Regex(@"\bactive\b"));
        var figures = steady.Locator(".model-health-figures");
        await Expect(figures).ToBeVisibleAsync();
        await Expect(figures).ToContainTextAsync("100% ok of 1");
        await Expect(figures).ToContainTextAsync("tok/s");
        await Expect(steady).ToHaveAccessibleDescriptionAsync(new Regex(@"^100% ok of 1 · TTFT \d+ ms"));
        await page.Keyboard.PressAsync("Escape");

        // The admin models page has the Health column with the same figures.
        await page.GotoAsync("/Admin/Models");
        var table = page.GetByTestId("models-table");
        await Expect(table.GetByRole(AriaRole.Columnheader, new() { Name = "Health" })).ToBeVisibleAsync();
        await Expect(table.Locator("tr[data-model='gpt-4o']").GetByTestId("model-health")).ToContainTextAsync("failing");
        await Expect(table.Locator("tr[data-model='gpt-4o']").GetByTestId("model-health")).ToContainTextAsync("0% ok of 3");
        await Expect(table.Locator("tr[data-model='gpt-4o-mini']").GetByTestId("model-health")).ToContainTextAsync("healthy");
        // The scan covers the new column: the models page has older findings of its own (code contrast, disabled pager links).
        foreach (var cell in await table.GetByTestId("model-health").AllAsync())
        {
            var result = await cell.RunAxe();
            var serious = result.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => $"{v.Id}: {v.Help}").ToList();
            Assert.True(serious.Count == 0, string.Join("\n", serious));
        }
    });
}
