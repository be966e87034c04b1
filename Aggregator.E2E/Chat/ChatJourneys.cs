using System.Text.RegularExpressions;
using Aggregator.E2E.Infrastructure;
using Aggregator.Web.Data;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Chat;

[Collection(BrowserCollection.Name)]
public sealed partial class ChatJourneys(BrowserFixture browser, ChatKestrelApp app) : BrowserTest(browser, app), IClassFixture<ChatKestrelApp>
{
    static string NewEmail() => $"chat-{Guid.NewGuid():N}@example.com";

    static async Task PickModelAsync(IPage page, string search, string name)
    {
        await page.GetByTestId("model-button").ClickAsync();
        var input = page.GetByTestId("model-search");
        await Expect(input).ToBeFocusedAsync();
        await input.FillAsync(search);
        await Expect(page.GetByTestId("model-list").GetByRole(AriaRole.Option).First).ToContainTextAsync(name);
        await input.PressAsync("Enter");
        await Expect(page.GetByTestId("model-button")).ToContainTextAsync(name);
    }

    static async Task SendAsync(IPage page, string text)
    {
        var input = page.GetByTestId("composer-input");
        await input.FillAsync(text);
        await input.PressAsync("Enter");
    }

    static ILocator LastReply(IPage page) => page.GetByTestId("message-assistant").Last;

    /// <summary>Characters of reply text on screen (rendered part plus the raw tail), excluding buttons and stats.</summary>
    const string ReplyText = "(() => { const r = [...document.querySelectorAll('[data-testid=message-assistant]')].pop(); " +
                             "return r ? { status: r.dataset.status, length: (r.querySelector('.msg-body').innerText + r.querySelector('.msg-tail').innerText).trim().length } : { status: '', length: 0 }; })()";

    static Task WaitForReplyAsync(IPage page, string status, int longerThan) =>
        page.WaitForFunctionAsync($"() => {{ const s = {ReplyText}; return s.status === '{status}' && s.length > {longerThan}; }}");

    static Task<int> ReplyLengthAsync(IPage page) => page.EvaluateAsync<int>($"() => {ReplyText}.length");

    /// <summary>The chat script has loaded the catalogue and connected to the hub.</summary>
    static async Task OpenChatAsync(IPage page, string path = "/")
    {
        await page.GotoAsync(path);
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
    }

    [Fact]
    public Task A_model_picked_by_search_streams_tokens_incrementally_and_ends_as_rendered_markdown() => InBrowserAsync(async page =>
    {
        await RegisterAsync(page, NewEmail());
        await OpenChatAsync(page);
        // Groups with counts, direct providers first.
        await page.GetByTestId("model-button").ClickAsync();
        var groups = page.GetByTestId("model-list").GetByRole(AriaRole.Group);
        await Expect(groups.First).ToHaveAccessibleNameAsync("Mock Direct (1)");
        await Expect(groups.Nth(1)).ToHaveAccessibleNameAsync("Mock Hub (62)");
        await page.Keyboard.PressAsync("Escape");

        await PickModelAsync(page, "4o mini", "GPT-4o mini");
        await SendAsync(page, "Hello there mock:tokens=80 mock:tps=20");

        var reply = LastReply(page);
        await Expect(reply).ToHaveAttributeAsync("data-status", "streaming");
        // Intermediate states: some text while still streaming, then more text, still streaming.
        await WaitForReplyAsync(page, "streaming", 10);
        var early = await ReplyLengthAsync(page);
        await WaitForReplyAsync(page, "streaming", early + 20);
        Assert.True(await ReplyLengthAsync(page) > early);

        await Expect(reply).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 20_000 });
        await Expect(reply.Locator(".msg-body h2")).ToHaveTextAsync("Mock reply");
        await Expect(reply.Locator(".msg-body table")).ToBeVisibleAsync();
        await Expect(reply.Locator(".msg-body li").First).ToContainTextAsync("First item");
        await Expect(reply.Locator(".code-block code.hljs")).ToContainTextAsync("print");
        await Expect(reply.Locator(".code-copy")).ToBeVisibleAsync();
        await Expect(reply.GetByTestId("message-meta")).ToContainTextAsync(MetaPattern());
        await Expect(page.GetByTestId("composer-input")).ToBeFocusedAsync();
        await Expect(page).ToHaveURLAsync(ConversationUrl());
        await Expect(page.GetByTestId("chat-status")).ToHaveTextAsync("Reply complete.");
        await Expect(page.GetByTestId("conversation-list")).ToContainTextAsync("Hello there");

        // A reload shows the same rendering.
        await page.ReloadAsync();
        await Expect(LastReply(page).Locator(".msg-body h2")).ToHaveTextAsync("Mock reply");
        await Expect(page.GetByTestId("model-button")).ToContainTextAsync("GPT-4o mini");
    });

    [Fact]
    public Task Stop_keeps_the_partial_reply() => InBrowserAsync(async page =>
    {
        var email = NewEmail();
        await RegisterAsync(page, email);
        await OpenChatAsync(page);
        await PickModelAsync(page, "gpt-4o-mini", "GPT-4o mini");
        await SendAsync(page, "Talk a lot mock:tokens=600 mock:tps=20");
        var reply = LastReply(page);
        await WaitForReplyAsync(page, "streaming", 30);
        await page.GetByTestId("stop").ClickAsync();

        await Expect(reply).ToHaveAttributeAsync("data-status", "stopped", new() { Timeout = 20_000 });
        var shown = (await reply.Locator(".msg-body").InnerTextAsync()).Trim();
        Assert.NotEmpty(shown);
        await Expect(page.GetByTestId("stop")).ToBeHiddenAsync();
        var saved = await app.LastReplyAsync(email);
        Assert.Equal(MessageStatus.Stopped, saved.Status);
        Assert.InRange(saved.Seq, 1, 599);

        await page.ReloadAsync();
        await Expect(LastReply(page)).ToHaveAttributeAsync("data-status", "stopped", new() { Timeout = 20_000 });
        await Expect(LastReply(page).Locator(".msg-body")).Not.ToBeEmptyAsync();
    });

    [Fact]
    public Task Reloading_mid_stream_shows_the_text_so_far_and_resumes_live() => InBrowserAsync(async page =>
    {
        var email = NewEmail();
        await RegisterAsync(page, email);
        await OpenChatAsync(page);
        await PickModelAsync(page, "mini", "GPT-4o mini");
        await SendAsync(page, "Resume please mock:tokens=160 mock:tps=25");
        await WaitForReplyAsync(page, "streaming", 40);
        await page.WaitForURLAsync(ConversationUrl());

        await page.ReloadAsync();
        var reply = LastReply(page);
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
        await Expect(reply).ToHaveAttributeAsync("data-status", "streaming");
        var atReload = await ReplyLengthAsync(page);
        Assert.True(atReload > 40, "the page should show the text so far");
        await WaitForReplyAsync(page, "streaming", atReload + 10);

        await Expect(reply).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 20_000 });
        var saved = await app.LastReplyAsync(email);
        Assert.Equal(MessageStatus.Complete, saved.Status);
        Assert.Equal(160, saved.Seq);
        await Expect(reply.Locator(".msg-body h2")).ToHaveTextAsync("Mock reply");
    });

    [Fact]
    public Task A_free_user_sees_a_pro_model_locked() => InBrowserAsync(async page =>
    {
        await RegisterAsync(page, NewEmail());
        await OpenChatAsync(page);
        await page.GetByTestId("model-button").ClickAsync();
        var search = page.GetByTestId("model-search");
        await search.FillAsync("gpt-4o");
        var locked = page.GetByRole(AriaRole.Option, new() { Name = "GPT-4o gpt-4o" });
        await Expect(locked).ToHaveAttributeAsync("aria-disabled", "true");
        await Expect(locked).ToContainTextAsync("🔒 pro");
        await Expect(locked).ToHaveClassAsync(new Regex("active")); // sorted first, highlighted
        await search.PressAsync("Enter");
        await Expect(page.Locator("#model-count")).ToContainTextAsync("needs the pro tier");
        await Expect(page.GetByTestId("model-button")).Not.ToHaveTextAsync(new Regex(@"^GPT-4o\s*▾$"));
    });

    [Fact]
    public Task Conversations_can_be_renamed_deleted_and_restored() => InBrowserAsync(async page =>
    {
        await RegisterAsync(page, NewEmail());
        await OpenChatAsync(page);
        await PickModelAsync(page, "mini", "GPT-4o mini");
        await SendAsync(page, "Name me mock:tokens=5");
        await Expect(LastReply(page)).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 20_000 });
        var item = page.GetByTestId("conversation-list").Locator(".conversation-item").First;
        await Expect(item).ToContainTextAsync("Name me");

        await item.HoverAsync();
        await item.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Rename") }).ClickAsync();
        var rename = page.GetByTestId("rename-input");
        await rename.FillAsync("Renamed chat");
        await rename.PressAsync("Enter");
        await Expect(item).ToContainTextAsync("Renamed chat");
        await Expect(page.GetByTestId("chat-title")).ToHaveTextAsync("Renamed chat"); // confirmed by the server
        await page.ReloadAsync();
        await Expect(page.GetByTestId("conversation-list")).ToContainTextAsync("Renamed chat");
        await Expect(page.GetByTestId("chat-title")).ToHaveTextAsync("Renamed chat");

        item = page.GetByTestId("conversation-list").Locator(".conversation-item").First;
        await item.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Delete") }).ClickAsync();
        await Expect(page.GetByTestId("conversation-list")).Not.ToContainTextAsync("Renamed chat");
        await Expect(page.GetByTestId("toast")).ToContainTextAsync("Deleted");
        await page.GetByTestId("undo").ClickAsync();
        await Expect(page.GetByTestId("conversation-list")).ToContainTextAsync("Renamed chat");

        item = page.GetByTestId("conversation-list").Locator(".conversation-item").First;
        await item.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Delete") }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/$"));
        await page.ReloadAsync();
        await Expect(page.GetByTestId("conversation-list")).Not.ToContainTextAsync("Renamed chat");
    });

    [Fact]
    public Task The_chat_page_has_no_serious_accessibility_violations() => InBrowserAsync(async page =>
    {
        await RegisterAsync(page, NewEmail());
        await OpenChatAsync(page);
        await PickModelAsync(page, "mini", "GPT-4o mini");
        await SendAsync(page, "Accessible? mock:tokens=30");
        await Expect(LastReply(page)).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 20_000 });
        await AssertNoSeriousViolationsAsync(page);

        await page.GetByTestId("model-button").ClickAsync();
        await Expect(page.GetByTestId("model-list").GetByRole(AriaRole.Option).First).ToBeVisibleAsync();
        await AssertNoSeriousViolationsAsync(page);
        await page.Keyboard.PressAsync("Escape");

        await page.Locator("[data-theme-toggle]").ClickAsync(); // dark theme has its own contrast
        await AssertNoSeriousViolationsAsync(page);
    });

    static async Task AssertNoSeriousViolationsAsync(IPage page)
    {
        var result = await page.RunAxe();
        var serious = result.Violations.Where(v => v.Impact is "serious" or "critical")
            .SelectMany(v => v.Nodes.Select(n => (Violation: v, Target: string.Join(" ", n.Target))))
            // The account menu belongs to the shared layout (front-end helper's area), reported there.
            .Where(x => !(x.Violation.Id == "label-content-name-mismatch" && x.Target.Contains("user-menu")))
            .Select(x => $"{x.Violation.Id} ({x.Violation.Impact}): {x.Violation.Help} at {x.Target}")
            .ToList();
        Assert.True(serious.Count == 0, string.Join("\n", serious));
    }

    [GeneratedRegex(@"gpt-4o-mini · \d+ tokens · TTFT \d+\.\d\d s")]
    private static partial Regex MetaPattern();

    [GeneratedRegex(@"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
    private static partial Regex ConversationUrl();
}
