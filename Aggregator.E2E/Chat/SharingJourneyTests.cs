using System.Text.Json;
using System.Text.RegularExpressions;
using Aggregator.E2E.Infrastructure;
using Aggregator.Web.Data;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Chat;

/// <summary>Export, share and the sidebar's places (pin, archive, folders), clicked in Chromium and checked in the database.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SharingJourneyTests(BrowserFixture browser, ChatKestrelApp app) : BrowserTest(browser, app), IClassFixture<ChatKestrelApp>
{
    static string NewEmail() => $"share-{Guid.NewGuid():N}@example.com";

    async Task<T> QueryAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        await using var scope = App.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    Task<Conversation> ConversationAsync(string title) =>
        QueryAsync(db => db.Conversations.AsNoTracking().SingleAsync(c => c.Title == title));

    /// <summary>Signs up, opens the chat, picks the free model and has one exchange; the title is the question.</summary>
    static async Task StartConversationAsync(IPage page, string question, bool register = true, string? email = null)
    {
        if (register) await RegisterAsync(page, email ?? NewEmail());
        await page.GotoAsync("/");
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
        await page.GetByTestId("model-button").ClickAsync();
        await page.GetByTestId("model-search").FillAsync("4o mini");
        await Expect(page.GetByTestId("model-list").GetByRole(AriaRole.Option).First).ToContainTextAsync("GPT-4o mini");
        await page.GetByTestId("model-search").PressAsync("Enter");
        await page.GetByTestId("composer-input").FillAsync(question + " mock:tokens=20");
        await page.GetByTestId("composer-input").PressAsync("Enter");
        await Expect(page.GetByTestId("message-assistant").Last).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 20_000 });
        await Expect(page).ToHaveURLAsync(new Regex("/[0-9a-f-]{36}$"));
    }

    static async Task AssertAccessibleAsync(IPage page, string what)
    {
        var result = await page.RunAxe(new AxeRunOptions
        {
            RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
        });
        var problems = result.Violations
            .Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{v.Id} ({v.Impact}): {v.Help}\n    " + string.Join("\n    ", v.Nodes.Select(n => n.Html)))
            .ToList();
        Assert.True(problems.Count == 0, $"{what}:\n" + string.Join("\n", problems));
    }

    [Fact]
    public Task A_shared_link_opens_without_cookies_read_only_and_is_404_once_revoked() => InBrowserAsync(async page =>
    {
        await StartConversationAsync(page, "Explain share links");
        await page.GetByTestId("share-button").ClickAsync();
        await Expect(page.GetByTestId("share-dialog")).ToBeVisibleAsync();
        await page.GetByTestId("share-create").ClickAsync();
        await Expect(page.GetByTestId("share-url")).ToHaveValueAsync(new Regex("/s/[A-Za-z0-9_-]{43}$"));
        var url = await page.GetByTestId("share-url").InputValueAsync();
        Assert.StartsWith(App.Url("/s/"), url);
        await page.GetByTestId("share-copy").ClickAsync();
        await Expect(page.GetByTestId("share-copy")).ToHaveTextAsync("Copied");
        Assert.Equal(url, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        await page.GetByTestId("share-close").ClickAsync();
        await Expect(page.GetByTestId("share-dialog")).ToBeHiddenAsync();

        // A stranger: a fresh context, no cookies.
        await using (var fresh = await page.Context.Browser!.NewContextAsync(new() { BaseURL = App.BaseUrl.ToString() }))
        {
            var stranger = await fresh.NewPageAsync();
            var opened = await stranger.GotoAsync(url);
            Assert.Equal(200, opened!.Status);
            Assert.Contains("noindex", opened.Headers["x-robots-tag"]);
            Assert.Empty(await fresh.CookiesAsync());
            await Expect(stranger.GetByTestId("shared-title")).ToHaveTextAsync("Explain share links mock:tokens=20");
            await Expect(stranger.GetByTestId("shared-message").First).ToContainTextAsync("Explain share links");
            await Expect(stranger.Locator("[data-role=assistant] .md h2")).ToHaveTextAsync("Mock reply");
            await Expect(stranger.GetByTestId("composer-input")).ToHaveCountAsync(0);
            await Expect(stranger.Locator("meta[name=robots]")).ToHaveAttributeAsync("content", new Regex("noindex"));
            await AssertAccessibleAsync(stranger, "share page");
        }

        await page.GetByTestId("user-menu").ClickAsync();
        await page.GetByTestId("nav-data").ClickAsync();
        await Expect(page.GetByTestId("share-row")).ToHaveCountAsync(1);
        await AssertAccessibleAsync(page, "account data page");
        await page.GetByTestId("revoke-share").ClickAsync();
        await Expect(page.GetByTestId("status")).ToContainTextAsync("revoked");
        await Expect(page.GetByTestId("share-state")).ToContainTextAsync("Revoked");
        Assert.NotNull(await QueryAsync(db => db.ShareLinks.Select(s => s.RevokedAt).SingleAsync(r => r != null)));

        await using var later = await page.Context.Browser!.NewContextAsync(new() { BaseURL = App.BaseUrl.ToString() });
        var again = await (await later.NewPageAsync()).GotoAsync(url);
        Assert.Equal(404, again!.Status);
    }, new BrowserNewContextOptions { Permissions = ["clipboard-read", "clipboard-write"] });

    [Fact]
    public Task Exports_download_as_markdown_and_json_with_the_conversation() => InBrowserAsync(async page =>
    {
        await StartConversationAsync(page, "Export me please");
        await page.GetByTestId("export-button").ClickAsync();
        var markdown = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-markdown").ClickAsync());
        Assert.Equal("Export me please mock-tokens-20.md", markdown.SuggestedFilename);
        var text = await File.ReadAllTextAsync((await markdown.PathAsync())!);
        Assert.StartsWith("# Export me please mock:tokens=20\n", text);
        Assert.Contains("## You · ", text);
        Assert.Contains("## Assistant (gpt-4o-mini) · ", text);
        Assert.Contains("Mock reply", text);

        await page.GetByTestId("export-button").ClickAsync();
        var json = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-json").ClickAsync());
        Assert.EndsWith(".json", json.SuggestedFilename);
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync((await json.PathAsync())!));
        var messages = document.RootElement.GetProperty("conversation").GetProperty("messages");
        Assert.Equal(2, messages.GetArrayLength());
        Assert.Equal(messages[0].GetProperty("id").GetInt64(), messages[1].GetProperty("parentId").GetInt64());
        Assert.Equal("Export me please mock:tokens=20", messages[0].GetProperty("content").GetString());

        await page.GetByTestId("user-menu").ClickAsync();
        await page.GetByTestId("nav-data").ClickAsync();
        var archive = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-all").ClickAsync());
        using var all = JsonDocument.Parse(await File.ReadAllTextAsync((await archive.PathAsync())!));
        Assert.Equal(1, all.RootElement.GetProperty("conversations").GetArrayLength());
    });

    [Fact]
    public Task Pin_archive_and_folders_in_the_sidebar_reach_the_database() => InBrowserAsync(async page =>
    {
        await StartConversationAsync(page, "First topic");
        await page.GetByTestId("new-chat").ClickAsync();
        await StartConversationAsync(page, "Second topic", register: false);
        var sidebar = page.Locator("#chat-sidebar");
        ILocator Item(string title) => sidebar.Locator(".conversation-item", new() { HasText = title });

        // A folder, then the first conversation moved into it.
        await page.GetByTestId("new-folder").ClickAsync();
        await page.GetByTestId("folder-name-input").FillAsync("Research");
        await page.GetByTestId("folder-name-input").PressAsync("Enter");
        var folder = page.GetByTestId("folder-group");
        await Expect(folder).ToContainTextAsync("Research");
        var folderId = await QueryAsync(db => db.Folders.Where(f => f.Name == "Research").Select(f => f.Id).SingleAsync());
        await Item("First topic").HoverAsync();
        await Item("First topic").GetByTestId("conversation-more-actions").ClickAsync();
        await page.GetByTestId("menu-folder").SelectOptionAsync(new SelectOptionValue { Label = "Research" });
        await Expect(folder.Locator(".conversation-item")).ToContainTextAsync("First topic");
        Assert.Equal(folderId, (await ConversationAsync("First topic mock:tokens=20")).FolderId);

        // Pinned: on top, in its own section.
        await Item("Second topic").HoverAsync();
        await Item("Second topic").GetByTestId("conversation-more-actions").ClickAsync();
        await page.GetByTestId("menu-pin").ClickAsync();
        await Expect(page.GetByTestId("pinned-list")).ToContainTextAsync("Second topic");
        Assert.NotNull((await ConversationAsync("Second topic mock:tokens=20")).PinnedAt);
        await AssertAccessibleAsync(page, "sidebar with a folder and a pinned conversation");

        // A reload shows the same places (rendered by the server).
        await page.ReloadAsync();
        await Expect(page.GetByTestId("pinned-list")).ToContainTextAsync("Second topic");
        await Expect(page.GetByTestId("folder-group").Locator(".conversation-item")).ToContainTextAsync("First topic");

        // Archived: out of the lists, found under "Archived", back with Unarchive.
        await Item("First topic").HoverAsync();
        await Item("First topic").GetByTestId("conversation-more-actions").ClickAsync();
        await page.GetByTestId("menu-archive").ClickAsync();
        await Expect(Item("First topic")).ToHaveCountAsync(0);
        Assert.NotNull((await ConversationAsync("First topic mock:tokens=20")).ArchivedAt);
        await page.GetByTestId("show-archived").ClickAsync();
        await Expect(page.GetByTestId("archived-list")).ToContainTextAsync("First topic");
        await AssertAccessibleAsync(page, "archived view");
        await page.GetByTestId("unarchive").ClickAsync();
        await Expect(page.GetByTestId("archived-list").Locator("li")).ToHaveCountAsync(0);
        await page.GetByTestId("show-archived").ClickAsync();
        await Expect(folder.Locator(".conversation-item")).ToContainTextAsync("First topic");
        Assert.Null((await ConversationAsync("First topic mock:tokens=20")).ArchivedAt);

        // A search without hits says so.
        await page.GetByTestId("conversation-search").FillAsync("nothing-like-this-anywhere");
        await Expect(page.Locator("#conversation-empty")).ToHaveTextAsync("No matches.");
        await Expect(page.GetByTestId("folder-group")).ToBeHiddenAsync();
        await page.GetByTestId("conversation-search").FillAsync("");
        await Expect(Item("First topic")).ToBeVisibleAsync();

        // Deleting the folder keeps its conversation.
        await folder.HoverAsync();
        await folder.GetByRole(AriaRole.Button, new() { Name = "Delete folder “Research”" }).ClickAsync();
        await Expect(page.GetByTestId("folder-group")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("conversation-list")).ToContainTextAsync("First topic");
        Assert.Null((await ConversationAsync("First topic mock:tokens=20")).FolderId);
    });
}
