using System.Text.Json.Nodes;
using Aggregator.E2E.Infrastructure;
using Aggregator.Web.Data;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Chat;

/// <summary>Custom instructions, chat settings, presets and the context gauge, in Chromium against the real app and the mock upstream.</summary>
[Collection(BrowserCollection.Name)]
public sealed class InstructionsJourneyTests(BrowserFixture browser, ChatKestrelApp app) : BrowserTest(browser, app), IClassFixture<ChatKestrelApp>
{
    static async Task AssertAccessibleAsync(IPage page, string what)
    {
        var result = await page.RunAxe(new AxeRunOptions
        {
            RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
        });
        var problems = result.Violations.Select(v => $"{v.Id} ({v.Impact}): {v.Help}\n    " + string.Join("\n    ", v.Nodes.Select(n => n.Html))).ToList();
        Assert.True(problems.Count == 0, $"{what}:\n" + string.Join("\n", problems));
    }

    static async Task OpenChatAsync(IPage page)
    {
        await page.GotoAsync("/");
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
    }

    static async Task PickAsync(IPage page, string search, string option)
    {
        await page.GetByTestId("model-button").ClickAsync();
        await page.GetByTestId("model-search").FillAsync(search);
        await page.GetByTestId("model-list").GetByRole(AriaRole.Option, new() { Name = option }).First.ClickAsync();
    }

    /// <summary>Sends a question with a unique marker and returns the body the mock received for it once the reply is complete.</summary>
    async Task<JsonObject> SendAsync(IPage page, string text)
    {
        var marker = $"q{Guid.NewGuid():N}";
        var input = page.GetByTestId("composer-input");
        await input.FillAsync($"{marker} {text} mock:tokens=5");
        await input.PressAsync("Enter");
        await Expect(page.GetByTestId("message-assistant").Last).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 20_000 });
        var received = app.Mock.State.Received.Last(r => r.Body.Contains(marker, StringComparison.Ordinal));
        return JsonNode.Parse(received.Body)!.AsObject();
    }

    static string? SystemOf(JsonObject body) =>
        body["messages"]!.AsArray().FirstOrDefault(m => m!["role"]!.GetValue<string>() == "system")?["content"]?.GetValue<string>();

    async Task<Conversation> LatestConversationAsync(string email)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.Conversations.AsNoTracking().Where(c => db.Users.Any(u => u.Id == c.UserId && u.Email == email))
            .OrderByDescending(c => c.UpdatedAt).FirstAsync();
    }

    async Task<List<string>> PresetNamesAsync(string email)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.Presets.Where(p => db.Users.Any(u => u.Id == p.UserId && u.Email == email)).Select(p => p.Name).ToListAsync();
    }

    [Fact]
    public Task Custom_instructions_chat_settings_presets_and_the_gauge_reach_the_upstream() => InBrowserAsync(async page =>
    {
        var email = $"instr-{Guid.NewGuid():N}@example.com";
        await RegisterAsync(page, email);

        // Custom instructions, from the account menu's page; a first send carries them as the system prompt.
        await page.GotoAsync("/Account/Instructions");
        await AssertAccessibleAsync(page, "custom instructions page");
        await page.GetByTestId("custom-instructions").FillAsync("Always answer in haiku.");
        await page.GetByTestId("save-instructions").ClickAsync();
        await Expect(page.GetByTestId("status")).ToHaveTextAsync("Custom instructions saved.");

        await OpenChatAsync(page);
        await PickAsync(page, "4o mini", "GPT-4o mini gpt-4o-mini");
        var gauge = page.GetByRole(AriaRole.Meter, new() { Name = "Context window used" });
        await Expect(gauge).ToBeVisibleAsync();
        Assert.Equal("Always answer in haiku.", SystemOf(await SendAsync(page, "first")));
        await Expect(gauge).ToHaveAttributeAsync("aria-valuetext", new System.Text.RegularExpressions.Regex(@"^About \d[\d,]* of 128,000 tokens \(\d+%\) for GPT-4o mini$"));

        // Chat settings: a bad value is refused with its reason; then a system prompt and a temperature for this chat.
        await page.GetByTestId("settings-button").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Chat settings" });
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog.GetByLabel("Reasoning effort")).ToBeHiddenAsync(); // GPT-4o mini does not reason
        await AssertAccessibleAsync(page, "chat settings dialog");
        await dialog.GetByLabel("Temperature").FillAsync("3");
        await dialog.GetByTestId("settings-save").ClickAsync();
        await Expect(dialog.GetByTestId("settings-error")).ToHaveTextAsync("Temperature must be between 0 and 2.");
        await dialog.GetByLabel("System prompt").FillAsync("Reply as a pirate.");
        await dialog.GetByLabel("Temperature").FillAsync("0.4");
        await dialog.GetByTestId("settings-save").ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        var saved = await LatestConversationAsync(email);
        Assert.Equal(("Reply as a pirate.", 0.4), (saved.SystemPrompt, saved.Temperature));

        var body = await SendAsync(page, "second");
        Assert.Equal("Reply as a pirate.", SystemOf(body));
        Assert.Equal(0.4, body["temperature"]!.GetValue<double>());

        // A preset from these settings, then picked from the selector's Presets group for a new chat.
        await page.GetByTestId("settings-button").ClickAsync();
        await Expect(dialog.GetByLabel("System prompt")).ToHaveValueAsync("Reply as a pirate.");
        await dialog.GetByLabel("Preset name").FillAsync("Pirate");
        await dialog.GetByTestId("preset-create").ClickAsync();
        await Expect(dialog.GetByTestId("preset-item")).ToContainTextAsync("Pirate");
        await AssertAccessibleAsync(page, "chat settings dialog with a preset");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();

        await page.GetByTestId("new-chat").ClickAsync();
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
        await page.GetByTestId("model-button").ClickAsync();
        var presets = page.GetByTestId("model-list").GetByRole(AriaRole.Group).First;
        await Expect(presets).ToHaveAccessibleNameAsync("Presets");
        await AssertAccessibleAsync(page, "model selector with presets");
        await presets.GetByRole(AriaRole.Option, new() { Name = "Pirate GPT-4o mini" }).ClickAsync();
        await Expect(page.GetByTestId("model-button")).ToContainTextAsync("GPT-4o mini");
        var fromPreset = await SendAsync(page, "third");
        Assert.Equal("Reply as a pirate.", SystemOf(fromPreset));
        Assert.Equal(0.4, fromPreset["temperature"]!.GetValue<double>());
        var created = await LatestConversationAsync(email);
        Assert.NotEqual(saved.Id, created.Id);
        Assert.Equal(("Reply as a pirate.", 0.4), (created.SystemPrompt, created.Temperature));

        // A reasoning model offers reasoning effort.
        await PickAsync(page, "deepseek", "DeepSeek Chat deepseek-chat");
        await page.GetByTestId("settings-button").ClickAsync();
        await Expect(dialog.GetByLabel("Reasoning effort")).ToBeVisibleAsync();
        await dialog.GetByLabel("Reasoning effort").SelectOptionAsync("high");
        await dialog.GetByTestId("settings-save").ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        var effort = await SendAsync(page, "fourth");
        Assert.Equal("high", effort["reasoning_effort"]!.GetValue<string>());

        // Presets are renamed and deleted in the dialog; the selector follows.
        await page.GetByTestId("settings-button").ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Rename preset Pirate" }).ClickAsync();
        var rename = dialog.GetByTestId("preset-rename-input");
        await rename.FillAsync("Corsair");
        await rename.PressAsync("Enter");
        await Expect(dialog.GetByTestId("preset-item")).ToContainTextAsync("Corsair");
        Assert.Equal(["Corsair"], await PresetNamesAsync(email));
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete preset Corsair" }).ClickAsync();
        await Expect(dialog.GetByTestId("preset-item")).ToHaveCountAsync(0);
        Assert.Empty(await PresetNamesAsync(email));
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();
        await page.GetByTestId("model-button").ClickAsync();
        await Expect(page.GetByTestId("model-list").GetByRole(AriaRole.Group).First).Not.ToHaveAccessibleNameAsync("Presets");
    });
}
