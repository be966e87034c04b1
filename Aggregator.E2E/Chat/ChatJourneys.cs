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
        // Regenerate and Edit would be refused while the reply is written: not offered.
        await Expect(reply.GetByTestId("regenerate")).ToBeHiddenAsync();
        await Expect(page.GetByTestId("message-user").Last.GetByTestId("edit")).ToBeHiddenAsync();
        await page.GetByTestId("stop").ClickAsync();

        await Expect(reply).ToHaveAttributeAsync("data-status", "stopped", new() { Timeout = 20_000 });
        await Expect(reply.GetByTestId("message-state")).ToHaveTextAsync("Stopped");
        await Expect(reply.GetByTestId("regenerate")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("message-user").Last.GetByTestId("edit")).ToBeVisibleAsync();
        var shown = (await reply.Locator(".msg-body").InnerTextAsync()).Trim();
        Assert.NotEmpty(shown);
        await Expect(page.GetByTestId("stop")).ToBeHiddenAsync();
        var saved = await app.LastReplyAsync(email);
        Assert.Equal(MessageStatus.Stopped, saved.Status);
        Assert.InRange(saved.Seq, 1, 599);

        await page.ReloadAsync();
        await Expect(LastReply(page)).ToHaveAttributeAsync("data-status", "stopped", new() { Timeout = 20_000 });
        await Expect(LastReply(page).Locator(".msg-body")).Not.ToBeEmptyAsync();
        await Expect(LastReply(page).GetByTestId("message-state")).ToHaveTextAsync("Stopped");
    });

    [Fact]
    public Task A_reply_stopped_before_its_first_token_says_so_instead_of_an_empty_block() => InBrowserAsync(async page =>
    {
        await RegisterAsync(page, NewEmail());
        await OpenChatAsync(page);
        await PickModelAsync(page, "mini", "GPT-4o mini");
        await SendAsync(page, "Think first mock:delay=20000 mock:tokens=5");
        var reply = LastReply(page);
        await Expect(reply).ToHaveAttributeAsync("data-status", "streaming");
        await Expect(reply.GetByTestId("regenerate")).ToBeHiddenAsync();
        await page.GetByTestId("stop").ClickAsync();

        await Expect(reply).ToHaveAttributeAsync("data-status", "stopped", new() { Timeout = 20_000 });
        await Expect(reply.GetByTestId("message-state")).ToHaveTextAsync("Stopped before any reply");
        await Expect(reply.Locator(".msg-body")).ToBeHiddenAsync();
        await page.ReloadAsync();
        await Expect(LastReply(page).GetByTestId("message-state")).ToHaveTextAsync("Stopped before any reply");
        await Expect(LastReply(page).Locator(".msg-body")).ToBeHiddenAsync();
    });

    [Fact]
    public Task Copy_puts_the_markdown_source_on_the_clipboard_and_a_code_block_copies_only_its_code() => InBrowserAsync(async page =>
    {
        var email = NewEmail();
        await RegisterAsync(page, email);
        await OpenChatAsync(page);
        await PickModelAsync(page, "mini", "GPT-4o mini");
        await SendAsync(page, "Copy me mock:tokens=80");
        var reply = LastReply(page);
        await Expect(reply).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 20_000 });

        await reply.Locator("[data-action=copy]").ClickAsync();
        await Expect(reply.Locator("[data-action=copy]")).ToHaveTextAsync("Copied");
        var saved = await app.LastReplyAsync(email);
        Assert.Equal(saved.Content, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        Assert.Contains("## Mock reply", saved.Content); // Markdown, not its rendering

        await reply.Locator(".code-copy").ClickAsync();
        await Expect(reply.Locator(".code-copy")).ToHaveTextAsync("Copied");
        Assert.Equal("print(\"hello\")", (await page.EvaluateAsync<string>("() => navigator.clipboard.readText()")).Trim());

        // The same after a reload, from the page's own copy of the source.
        await page.ReloadAsync();
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
        await LastReply(page).Locator("[data-action=copy]").ClickAsync();
        await Expect(LastReply(page).Locator("[data-action=copy]")).ToHaveTextAsync("Copied");
        Assert.Equal(saved.Content, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
    }, new BrowserNewContextOptions { Permissions = ["clipboard-read", "clipboard-write"] });

    [Fact]
    public Task A_search_without_hits_says_no_matches_and_editing_the_first_question_retitles() => InBrowserAsync(async page =>
    {
        await RegisterAsync(page, NewEmail());
        await OpenChatAsync(page);
        await PickModelAsync(page, "mini", "GPT-4o mini");
        await SendAsync(page, "About zebras mock:tokens=5");
        await Expect(LastReply(page)).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 20_000 });
        await Expect(page.GetByTestId("chat-title")).ToHaveTextAsync("About zebras mock:tokens=5");

        await page.GetByTestId("conversation-search").FillAsync("no-such-words-anywhere");
        await Expect(page.Locator("#conversation-empty")).ToHaveTextAsync("No matches.");
        await page.GetByTestId("conversation-search").FillAsync("");
        await Expect(page.GetByTestId("conversation-list")).ToContainTextAsync("About zebras");

        var question = page.GetByTestId("message-user").First;
        await question.GetByTestId("edit").ClickAsync();
        await question.GetByRole(AriaRole.Textbox, new() { Name = "Edit message" }).FillAsync("About lions mock:tokens=5");
        await question.GetByRole(AriaRole.Button, new() { Name = "Save and resend" }).ClickAsync();
        await Expect(page.GetByTestId("chat-title")).ToHaveTextAsync("About lions mock:tokens=5");
        await Expect(page.GetByTestId("conversation-list")).ToContainTextAsync("About lions");
        await Expect(LastReply(page)).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 20_000 });
        await page.ReloadAsync();
        await Expect(page.GetByTestId("chat-title")).ToHaveTextAsync("About lions mock:tokens=5");
    });

    [Fact]
    public Task At_phone_width_nothing_overflows_no_strip_shows_and_icons_are_svg_not_emoji() => InBrowserAsync(async page =>
    {
        await RegisterAsync(page, NewEmail());
        await OpenChatAsync(page);
        await PickModelAsync(page, "mini", "GPT-4o mini");
        await SendAsync(page, "Small screen mock:tokens=40");
        await Expect(LastReply(page)).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 20_000 });

        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways");
        // The closed sidebar (and its shadow) is not painted: the left edge shows the conversation.
        Assert.Equal("hidden", await page.EvaluateAsync<string>("() => getComputedStyle(document.getElementById('chat-sidebar')).visibility"));
        Assert.False(await page.EvaluateAsync<bool>("() => !!document.elementFromPoint(1, innerHeight / 2)?.closest('#chat-sidebar')"));

        var toggle = page.Locator("#sidebar-toggle");
        await Expect(toggle.Locator("svg.bi use")).ToHaveAttributeAsync("href", new Regex("#list$"));
        await toggle.ClickAsync();
        var item = page.GetByTestId("conversation-list").Locator(".conversation-item").First;
        await Expect(item.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Delete") }).Locator("svg.bi use")).ToHaveAttributeAsync("href", new Regex("#trash$"));
        await Expect(item.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Rename") }).Locator("svg.bi use")).ToHaveAttributeAsync("href", new Regex("#pencil$"));
        // Every glyph comes from the sprite, and it is really served: no emoji left for a missing font to box.
        var text = await page.EvaluateAsync<string>("() => document.body.innerText");
        Assert.DoesNotMatch(new Regex(@"[\u2190-\u2BFF\u2600-\u27BF]|\uD83C|\uD83D|\uD83E"), text.Replace("naïve café, 日本語 🚀", ""));
        var sprite = await page.EvaluateAsync<string>("() => document.body.dataset.icons");
        var response = await page.APIRequest.GetAsync(sprite);
        Assert.Equal(200, response.Status);
        Assert.Contains("<symbol id=\"trash\"", await response.TextAsync());
    }, new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 375, Height = 740 }, IsMobile = true, HasTouch = true });

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
        Assert.Equal(160, saved.CompletionTokens); // Seq numbers pushes, several tokens to one
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
        await Expect(locked.Locator(".badge-locked")).ToHaveTextAsync(new Regex(@"^\s*pro$"));
        await Expect(locked.Locator(".badge-locked svg.bi use")).ToHaveAttributeAsync("href", new Regex(@"/dist/icons\.\w+\.svg#lock-fill$"));
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
        // The item leaves the list once the server confirmed; only then may the page reload.
        await Expect(page.GetByTestId("conversation-list")).Not.ToContainTextAsync("Renamed chat");
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

        // Dark theme has its own contrast. The switch is instant (no colour transitions), so the
        // scan right after the click sees the final colours, as a user's eye does.
        await page.Locator("[data-theme-toggle]").ClickAsync();
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-bs-theme", "dark");
        Assert.Equal(0, await page.EvaluateAsync<int>(
            "() => document.getAnimations().filter(a => a instanceof CSSTransition).length"));
        await AssertNoSeriousViolationsAsync(page);
    });

    [GeneratedRegex(@"gpt-4o-mini · \d+ tokens · TTFT \d+\.\d\d s")]
    private static partial Regex MetaPattern();

    [GeneratedRegex(@"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
    private static partial Regex ConversationUrl();
}
