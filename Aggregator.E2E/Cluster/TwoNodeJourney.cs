using Aggregator.E2E.Infrastructure;
using Aggregator.Web.Cluster;
using Aggregator.Web.Data;
using Aggregator.Web.Tests.Cluster;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Cluster;

/// <summary>
/// The browser through nginx in front of two app processes: a reply streams from node a, a reload lands on
/// node b (the agg_node cookie pins it), and the reply continues there to its last word.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class TwoNodeJourney(BrowserFixture browser, TwoNodeCluster cluster) : IClassFixture<TwoNodeCluster>
{
    // An exact reply (mock:reply=) of 150 words at 10 tokens per second: it lasts 15 s (a reload on a busy machine takes seconds), and its text is known.
    static readonly string ExpectedReply = "## Two nodes\n\n" + string.Join(' ', Enumerable.Range(1, 148).Select(i => $"word{i:D3}"));

    [Fact]
    public async Task A_reply_streaming_on_node_a_continues_after_a_reload_lands_on_node_b()
    {
        await using var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = cluster.BaseUrl.ToString(), ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
        });
        context.SetDefaultTimeout(15_000);
        await PinAsync(context, "a");
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        var email = $"journey-{Guid.NewGuid():N}@example.com";
        try
        {
            await page.GotoAsync("/Account/Register");
            await page.GetByLabel("Email").FillAsync(email);
            await page.GetByLabel("Password", new() { Exact = true }).FillAsync(ClusterUser.Password);
            await page.GetByLabel("Confirm password").FillAsync(ClusterUser.Password);
            await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
            var chat = await page.GotoAsync("/");
            Assert.Equal("a", await ServedByAsync(chat));
            await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
            await page.GetByTestId("model-button").ClickAsync();
            await page.GetByTestId("model-search").FillAsync("4o mini");
            await page.GetByTestId("model-search").PressAsync("Enter");
            await Expect(page.GetByTestId("model-button")).ToContainTextAsync("GPT-4o mini");

            var input = page.GetByTestId("composer-input");
            await input.FillAsync("mock:tps=10 mock:reply=" + ExpectedReply);
            await input.PressAsync("Enter");
            var reply = page.GetByTestId("message-assistant").Last;
            await Expect(reply).ToHaveAttributeAsync("data-status", "streaming");
            await Expect(reply).ToContainTextAsync("word003", new() { Timeout = 15_000 }); // a two-process cluster on a loaded machine
            var streaming = await LastReplyAsync(email);
            Assert.Equal(MessageStatus.Streaming, streaming.Status);

            // Mid-reply, the next page load goes to the other node.
            await PinAsync(context, "b");
            var reloaded = await page.ReloadAsync();
            Assert.Equal("b", await ServedByAsync(reloaded));
            Assert.Equal(MessageStatus.Streaming, (await LastReplyAsync(email)).Status); // the reload really caught it mid-reply
            reply = page.GetByTestId("message-assistant").Last;
            await Expect(reply).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 30_000 });
            await Expect(reply.Locator(".msg-body h2")).ToHaveTextAsync("Two nodes");
            await Expect(reply.Locator(".msg-body")).ToContainTextAsync("word001");
            await Expect(reply.Locator(".msg-body")).ToContainTextAsync("word148");

            var saved = await LastReplyAsync(email);
            Assert.Equal(MessageStatus.Complete, saved.Status);
            Assert.Equal(ExpectedReply, saved.Content.Trim());
            Assert.Empty(errors);
        }
        catch
        {
            var folder = Path.Combine(AppContext.BaseDirectory, "e2e-artifacts");
            Directory.CreateDirectory(folder);
            await page.ScreenshotAsync(new() { Path = Path.Combine(folder, $"{nameof(TwoNodeJourney)}.png"), FullPage = true });
            await File.WriteAllTextAsync(Path.Combine(folder, $"{nameof(TwoNodeJourney)}.html"), await page.ContentAsync());
            throw;
        }
    }

    Task PinAsync(IBrowserContext context, string node) =>
        context.AddCookiesAsync([new Cookie { Name = ClusterUser.PinCookie, Value = node, Url = cluster.BaseUrl.ToString() }]);

    static async Task<string?> ServedByAsync(IResponse? response) =>
        response is null ? null : await response.HeaderValueAsync(NodeHeader.Name);

    Task<Message> LastReplyAsync(string email) => cluster.QueryAsync(db => db.Messages.AsNoTracking()
        .Where(m => m.Role == MessageRole.Assistant && db.Users.Any(u => u.Id == m.Conversation!.UserId && u.Email == email))
        .OrderByDescending(m => m.Id).FirstAsync());
}
