using System.Text.RegularExpressions;
using Aggregator.E2E.Infrastructure;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Chat;

/// <summary>Maths, copy, the typing indicator, long questions, shortcuts and the phone layout, in Chromium.</summary>
[Collection(BrowserCollection.Name)]
public sealed class RenderingJourneyTests(BrowserFixture browser, ChatKestrelApp app) : BrowserTest(browser, app), IClassFixture<ChatKestrelApp>
{
    const string Maths = "Inline $E=mc^2$ and \\(a^2+b^2=c^2\\), powers x^2 stay, prices $5 and $10 too.\n\n" +
                         "$$\n\\int_0^1 x\\,dx = \\frac{1}{2}\n$$\n\nAnd \\[\\sum_{i=1}^{n} i\\] displayed.";

    static string NewEmail() => $"render-{Guid.NewGuid():N}@example.com";

    static async Task OpenChatAsync(IPage page, string path = "/")
    {
        await page.GotoAsync(path);
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
    }

    static async Task StartAsync(IPage page)
    {
        await RegisterAsync(page, NewEmail());
        await OpenChatAsync(page);
        await page.GetByTestId("model-button").ClickAsync();
        await page.GetByTestId("model-search").FillAsync("gpt-4o-mini");
        await Expect(page.GetByTestId("model-list").GetByRole(AriaRole.Option).First).ToContainTextAsync("GPT-4o mini");
        await page.GetByTestId("model-search").PressAsync("Enter");
        await Expect(page.GetByTestId("model-button")).ToContainTextAsync("GPT-4o mini");
    }

    static async Task SendAsync(IPage page, string text)
    {
        await page.GetByTestId("composer-input").FillAsync(text);
        await page.GetByTestId("composer-input").PressAsync("Enter");
    }

    static ILocator LastReply(IPage page) => page.GetByTestId("message-assistant").Last;

    static Task CompleteAsync(IPage page) =>
        Expect(LastReply(page)).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 20_000 });

    /// <summary>Records CSP violations and dialogs, so a test can assert that nothing was blocked or fired.</summary>
    static async Task<List<string>> WatchAsync(IPage page)
    {
        var fired = new List<string>();
        page.Dialog += (_, dialog) => { fired.Add($"dialog: {dialog.Message}"); _ = dialog.DismissAsync(); };
        await page.AddInitScriptAsync("window.__violations = []; document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));");
        return fired;
    }

    [Fact]
    public Task Maths_is_typeset_by_katex_while_streaming_and_the_same_after_a_reload() => InBrowserAsync(async page =>
    {
        await WatchAsync(page);
        await StartAsync(page);
        await SendAsync(page, $"Maths please mock:tps=15 mock:reply={Maths}");
        var reply = LastReply(page);
        // Live: typeset while the reply is still being written.
        await page.WaitForFunctionAsync("() => { const r = [...document.querySelectorAll('[data-testid=message-assistant]')].pop(); " +
                                        "return r.dataset.status === 'streaming' && r.querySelector('.msg-body .katex'); }");
        await CompleteAsync(page);
        await Expect(reply.Locator(".msg-body .math-inline .katex")).ToHaveCountAsync(2);
        await Expect(reply.Locator(".msg-body .math-display .katex-display")).ToHaveCountAsync(2);
        await Expect(reply.Locator(".msg-body")).ToContainTextAsync("powers x^2 stay, prices $5 and $10 too.");
        Assert.Equal(0, await reply.Locator(".msg-body sup").CountAsync());
        var live = await reply.Locator(".msg-body").InnerHTMLAsync();

        await page.ReloadAsync();
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
        await Expect(LastReply(page).Locator(".msg-body .katex")).ToHaveCountAsync(4);
        Assert.Equal(live, await LastReply(page).Locator(".msg-body").InnerHTMLAsync());

        // Fonts and styles come from our own origin, and nothing was blocked by the CSP.
        await page.EvaluateAsync("() => document.fonts.ready");
        Assert.True(await page.EvaluateAsync<bool>("() => [...document.fonts].some(f => f.family.includes('KaTeX') && f.status === 'loaded')"));
        Assert.Empty(await page.EvaluateAsync<string[]>("() => window.__violations"));
    });

    [Fact]
    public Task Script_and_javascript_urls_inside_maths_do_nothing() => InBrowserAsync(async page =>
    {
        var fired = await WatchAsync(page);
        await StartAsync(page);
        const string payload = "$<script>alert(1)</script>$ and $\\href{javascript:alert(2)}{click me}$ and \\(\\url{javascript:alert(3)}\\)\n\n" +
                               "$$\n<img src=x onerror=\"alert(4)\">\n$$\n\n\\[\\htmlClass{x}{\\text{<b onmouseover=alert(5)>y</b>}}\\]";
        await SendAsync(page, $"Payload mock:reply={payload}");
        await CompleteAsync(page);
        var body = LastReply(page).Locator(".msg-body");
        await Expect(body.Locator(".math[data-tex]")).ToHaveCountAsync(5); // all typeset (untrusted commands in red)
        Assert.Equal(0, await body.Locator("script, img, a, b, [onerror], [onmouseover]").CountAsync());
        var url = page.Url;
        for (var i = 0; i < 5; i++)
        {
            await body.Locator(".math").Nth(i).HoverAsync();
            await body.Locator(".math").Nth(i).ClickAsync();
        }
        await page.ReloadAsync();
        await Expect(LastReply(page).Locator(".msg-body .math[data-tex]")).ToHaveCountAsync(5);
        await LastReply(page).Locator(".msg-body .math").Nth(1).ClickAsync();
        Assert.Equal(url, page.Url);
        Assert.Equal(0, await LastReply(page).Locator(".msg-body script, .msg-body img, .msg-body a").CountAsync());
        Assert.Empty(fired);
    });

    [Fact]
    public Task Each_code_block_copies_exactly_its_code_and_copy_copies_the_markdown() => InBrowserAsync(async page =>
    {
        await StartAsync(page);
        const string reply = "Two blocks:\n\n```python\nprint(\"one\")\n```\n\nthen\n\n```bash\necho two && ls -la\n```\n\nEnd with $x^2$.";
        await SendAsync(page, $"Code mock:tps=40 mock:reply={reply}");
        await CompleteAsync(page);
        var copies = LastReply(page).Locator(".code-copy");
        await Expect(copies).ToHaveCountAsync(2);
        await Expect(copies.Last.Locator("svg.bi use")).ToHaveAttributeAsync("href", new Regex("#clipboard$"));
        await copies.Last.ClickAsync();
        await Expect(copies.Last).ToHaveTextAsync(new Regex(@"^\s*Copied$"));
        Assert.Equal("echo two && ls -la\n", await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        await copies.First.ClickAsync();
        Assert.Equal("print(\"one\")\n", await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));

        await LastReply(page).Locator("[data-action=copy]").ClickAsync();
        await Expect(LastReply(page).Locator("[data-action=copy]")).ToHaveTextAsync(new Regex(@"^\s*Copied$"));
        Assert.Equal(reply, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
    }, new BrowserNewContextOptions { Permissions = ["clipboard-read", "clipboard-write"] });

    [Fact]
    public Task A_typing_indicator_shows_from_send_until_the_first_token() => InBrowserAsync(async page =>
    {
        await StartAsync(page);
        await SendAsync(page, "Slow start mock:delay=2500 mock:tokens=8");
        var reply = LastReply(page);
        var typing = reply.GetByRole(AriaRole.Status);
        await Expect(typing).ToBeVisibleAsync();
        await Expect(typing).ToHaveTextAsync(new Regex(@"^\s*Writing…$"));
        Assert.Equal("", (await reply.Locator(".msg-body").InnerTextAsync() + await reply.Locator(".msg-tail").InnerTextAsync()).Trim());
        await page.WaitForFunctionAsync("() => { const r = [...document.querySelectorAll('[data-testid=message-assistant]')].pop(); " +
                                        "return (r.querySelector('.msg-body').innerText + r.querySelector('.msg-tail').innerText).length > 0; }");
        await Expect(reply.GetByTestId("typing")).ToBeHiddenAsync();
        await CompleteAsync(page);
        await Expect(reply.GetByTestId("typing")).ToBeHiddenAsync();
    });

    [Fact]
    public Task A_long_pasted_question_collapses_with_show_more_and_show_less() => InBrowserAsync(async page =>
    {
        await StartAsync(page);
        var lines = string.Join("\n", Enumerable.Range(1, 40).Select(i => $"log line {i}: something happened"));
        await SendAsync(page, $"{lines}\nmock:tokens=5");
        await CompleteAsync(page);
        async Task AssertToggleAsync()
        {
            var question = page.GetByTestId("message-user").Last;
            var toggle = question.GetByRole(AriaRole.Button, new() { Name = "Show more" });
            await Expect(toggle).ToHaveAttributeAsync("aria-expanded", "false");
            var body = question.Locator(".msg-body");
            Assert.True(await body.EvaluateAsync<bool>("b => b.scrollHeight > b.clientHeight + 20"), "the long question is not collapsed");
            await toggle.ClickAsync();
            var less = question.GetByRole(AriaRole.Button, new() { Name = "Show less" });
            await Expect(less).ToHaveAttributeAsync("aria-expanded", "true");
            Assert.True(await body.EvaluateAsync<bool>("b => b.scrollHeight <= b.clientHeight + 1"), "the expanded question is still clipped");
            await less.ClickAsync();
            await Expect(question.GetByRole(AriaRole.Button, new() { Name = "Show more" })).ToHaveAttributeAsync("aria-expanded", "false");
        }
        await AssertToggleAsync();
        await page.ReloadAsync();
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
        await AssertToggleAsync();
        // A short question has no toggle.
        await SendAsync(page, "Short mock:tokens=3");
        await CompleteAsync(page);
        await Expect(page.GetByTestId("message-user").Last.GetByTestId("show-more")).ToHaveCountAsync(0);
    });

    [Fact]
    public Task Keyboard_shortcuts_open_the_selector_focus_the_composer_stop_a_reply_start_a_new_chat_and_list_themselves() => InBrowserAsync(async page =>
    {
        await StartAsync(page);
        var composer = page.GetByTestId("composer-input");
        // "/" and "?" typed in a field are text.
        await composer.FocusAsync();
        await page.Keyboard.TypeAsync("a/b?c");
        await Expect(composer).ToHaveValueAsync("a/b?c");
        await Expect(page.GetByTestId("shortcuts-dialog")).ToBeHiddenAsync();

        // Ctrl+K opens the model selector; Esc closes it first.
        await page.Keyboard.PressAsync("Control+k");
        await Expect(page.GetByTestId("model-search")).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.Locator("#model-popup")).ToBeHiddenAsync();

        // "/" outside a field focuses the composer.
        await page.Locator("#chat-title").ClickAsync();
        await Expect(composer).Not.ToBeFocusedAsync();
        await page.Keyboard.PressAsync("/");
        await Expect(composer).ToBeFocusedAsync();
        await Expect(composer).ToHaveValueAsync("a/b?c");

        // "?" lists the shortcuts in a modal dialog that keeps focus and closes on Esc.
        await page.Locator("#chat-title").ClickAsync();
        await page.Keyboard.PressAsync("Shift+Slash");
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Keyboard shortcuts" });
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog).ToContainTextAsync("New chat");
        for (var i = 0; i < 3; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            Assert.True(await dialog.EvaluateAsync<bool>("d => d.contains(document.activeElement)"), "focus left the dialog");
        }
        await page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToBeHiddenAsync();

        // Esc stops a streaming reply.
        await composer.FillAsync("Talk a lot mock:tokens=600 mock:tps=20");
        await composer.PressAsync("Enter");
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('[data-testid=message-assistant]')].pop().querySelector('.msg-tail').innerText.length + " +
                                        "[...document.querySelectorAll('[data-testid=message-assistant]')].pop().querySelector('.msg-body').innerText.length > 20");
        await page.Keyboard.PressAsync("Escape");
        await Expect(LastReply(page)).ToHaveAttributeAsync("data-status", "stopped", new() { Timeout = 20_000 });
        await Expect(LastReply(page).GetByTestId("message-state")).ToHaveTextAsync("Stopped");

        // Ctrl+Shift+O starts a new chat.
        await Expect(page).ToHaveURLAsync(new Regex("/[0-9a-f-]{36}$"));
        await page.Keyboard.PressAsync("Control+Shift+O");
        await Expect(page).ToHaveURLAsync(new Regex("/$"));
        await Expect(page.Locator("#chat-welcome")).ToBeVisibleAsync();
    });

    [Fact]
    public async Task Two_long_model_names_differing_at_the_end_are_told_apart_in_the_selector()
    {
        const string common = "Extremely Long Model Name From A Provider That Likes Words, Instruct Edition, Version";
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var provider = await db.Providers.FirstAsync(p => p.Name == "mockhub");
            var now = DateTime.UtcNow;
            foreach (var end in new[] { "Alpha", "Omega" })
                db.Models.Add(new AiModel
                {
                    ProviderId = provider.Id, ModelId = $"vendor/extremely-long-model-name-instruct-edition-{end.ToLowerInvariant()}", DisplayName = $"{common} {end}",
                    TierRequired = Tier.Free, Type = ModelType.Chat, FirstSeenAt = now, LastSeenAt = now, UpdatedAt = now, ContentHash = "e2e",
                });
            await db.SaveChangesAsync();
            await scope.ServiceProvider.GetRequiredService<CatalogCache>().InvalidateAsync();
        }
        await InBrowserAsync(async page =>
        {
            await RegisterAsync(page, NewEmail());
            await OpenChatAsync(page);
            await page.GetByTestId("model-button").ClickAsync();
            await page.GetByTestId("model-search").FillAsync("extremely long");
            var options = page.GetByTestId("model-list").GetByRole(AriaRole.Option);
            await Expect(options).ToHaveCountAsync(2);
            foreach (var (end, i) in new[] { ("Alpha", 0), ("Omega", 1) })
            {
                var name = options.Nth(i).Locator(".model-option-name");
                var id = options.Nth(i).Locator(".model-option-id");
                await Expect(name).ToHaveTextAsync($"{common} {end}");
                // Shown whole: nothing clipped or cut to "…".
                Assert.True(await name.EvaluateAsync<bool>("e => e.scrollWidth <= e.clientWidth && getComputedStyle(e).textOverflow !== 'ellipsis'"));
                Assert.True(await id.EvaluateAsync<bool>("e => e.scrollWidth <= e.clientWidth"));
                Assert.EndsWith(end, (await name.InnerTextAsync()).Trim());
            }
            await page.Keyboard.PressAsync("ArrowDown");
            await page.Keyboard.PressAsync("Enter");
            Assert.Contains("Omega", await page.GetByTestId("model-button").GetAttributeAsync("title"));
        }, new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 390, Height = 800 } });
    }

    [Fact]
    public Task At_phone_width_the_closed_sidebar_casts_no_shadow() => InBrowserAsync(async page =>
    {
        await RegisterAsync(page, NewEmail());
        await OpenChatAsync(page);
        const string shadow = "() => getComputedStyle(document.getElementById('chat-sidebar')).boxShadow";
        Assert.Equal("none", await page.EvaluateAsync<string>(shadow));
        await page.Locator("#sidebar-toggle").ClickAsync();
        await Expect(page.Locator("#chat-sidebar")).ToBeVisibleAsync();
        Assert.NotEqual("none", await page.EvaluateAsync<string>(shadow));
        await page.Keyboard.PressAsync("Escape"); // the open sidebar covers its toggle: Esc closes it
        await Expect(page.Locator("#sidebar-toggle")).ToHaveAttributeAsync("aria-expanded", "false");
        Assert.Equal("none", await page.EvaluateAsync<string>(shadow));
        // Once slid away (a 0.2 s transition), nothing of it is left at the left edge either.
        await page.WaitForFunctionAsync("() => getComputedStyle(document.getElementById('chat-sidebar')).visibility === 'hidden'");
        Assert.False(await page.EvaluateAsync<bool>("() => !!document.elementFromPoint(1, innerHeight / 2)?.closest('#chat-sidebar')"));
    }, new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 375, Height = 740 }, IsMobile = true, HasTouch = true });

    [Fact]
    public Task The_shortcuts_dialog_and_a_maths_reply_pass_axe() => InBrowserAsync(async page =>
    {
        await StartAsync(page);
        await SendAsync(page, $"Maths mock:reply={Maths}");
        await CompleteAsync(page);
        await Expect(LastReply(page).Locator(".katex")).ToHaveCountAsync(4);
        await AssertNoSeriousViolationsAsync(page);
        await page.GetByTestId("shortcuts-button").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog, new() { Name = "Keyboard shortcuts" })).ToBeVisibleAsync();
        await AssertNoSeriousViolationsAsync(page);
    });
}
