using Aggregator.E2E.Infrastructure;
using Aggregator.Web.Data;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SkiaSharp;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Chat;

[Collection(BrowserCollection.Name)]
public sealed class AttachmentsJourneyTests(BrowserFixture browser, ChatKestrelApp app) : BrowserTest(browser, app), IClassFixture<ChatKestrelApp>
{
    static string Png(SKColor color)
    {
        using var bitmap = new SKBitmap(96, 64);
        bitmap.Erase(color);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return Convert.ToBase64String(data.ToArray());
    }

    /// <summary>A DataTransfer holding one file, made in the page, as a real drag or paste carries it.</summary>
    const string MakeTransfer = "({ name, type, base64 }) => { const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0)); " +
                                "const dt = new DataTransfer(); dt.items.add(new File([bytes], name, { type })); return dt; }";

    static async Task DropAsync(IPage page, string name, string type, string base64)
    {
        var transfer = await page.EvaluateHandleAsync(MakeTransfer, new { name, type, base64 });
        var target = page.GetByTestId("chat-log");
        await target.DispatchEventAsync("dragenter", new { dataTransfer = transfer });
        await target.DispatchEventAsync("dragover", new { dataTransfer = transfer });
        await target.DispatchEventAsync("drop", new { dataTransfer = transfer });
    }

    static async Task PasteAsync(IPage page, string name, string type, string base64)
    {
        var transfer = await page.EvaluateHandleAsync(MakeTransfer, new { name, type, base64 });
        await page.GetByTestId("composer-input").EvaluateAsync(
            "(input, dt) => input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }))", transfer);
    }

    Task<List<Attachment>> AttachmentsOfAsync(string email) => QueryAsync(db => db.Attachments.AsNoTracking()
        .Where(a => db.Users.Any(u => u.Id == a.UserId && u.Email == email)).OrderBy(a => a.CreatedAt).ToListAsync());

    async Task<T> QueryAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        await using var scope = App.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    [Fact]
    public Task Images_dropped_and_pasted_show_previews_then_thumbnails_on_the_question_and_reach_the_model() => InBrowserAsync(async page =>
    {
        var email = $"attach-{Guid.NewGuid():N}@example.com";
        await RegisterAsync(page, email);
        await page.GotoAsync("/");
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
        // A model that sees images (the first one offered, DeepSeek Chat, does not).
        await page.GetByTestId("model-button").ClickAsync();
        await page.GetByTestId("model-search").FillAsync("4o mini");
        await Expect(page.GetByTestId("model-list").GetByRole(AriaRole.Option).First).ToContainTextAsync("GPT-4o mini");
        await page.GetByTestId("model-search").PressAsync("Enter");
        await Expect(page.GetByTestId("model-button")).ToContainTextAsync("GPT-4o mini");

        var previews = page.GetByTestId("attachment-preview");
        // Image previews show their thumbnail once uploaded; a text file its name and size.
        await DropAsync(page, "dropped.png", "image/png", Png(SKColors.SeaGreen));
        await Expect(previews).ToHaveCountAsync(1);
        await Expect(previews.Nth(0).Locator("img")).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("/api/attachments/.+/thumbnail$"));
        await PasteAsync(page, "pasted.png", "image/png", Png(SKColors.Goldenrod));
        await Expect(previews).ToHaveCountAsync(2);
        await Expect(previews.Nth(1).Locator("img")).ToBeVisibleAsync();
        await DropAsync(page, "unwanted.txt", "text/plain", Convert.ToBase64String("not this one"u8.ToArray()));
        await Expect(previews).ToHaveCountAsync(3);
        await Expect(previews.Nth(2)).ToHaveAttributeAsync("data-attachment-id", new System.Text.RegularExpressions.Regex("."));
        await Expect(previews.Nth(2)).ToContainTextAsync("unwanted.txt");
        await Expect(previews.Nth(2)).ToContainTextAsync("12 bytes");
        Assert.Equal(3, (await AttachmentsOfAsync(email)).Count);

        // The composer with previews passes axe (names of the remove buttons, contrast, labels).
        var axe = await page.Locator("#composer").RunAxe(new AxeRunOptions
        {
            RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
        });
        Assert.True(axe.Violations.Length == 0, string.Join("\n", axe.Violations.Select(v => $"{v.Id}: {v.Help} at {string.Join(" ", v.Nodes.Select(n => n.Html))}")));

        // Removed before sending: the preview goes, and so does the upload.
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove unwanted.txt" }).ClickAsync();
        await Expect(previews).ToHaveCountAsync(2);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await AttachmentsOfAsync(email)).Any(a => a.FileName == "unwanted.txt"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the removed upload is still stored");
            await Task.Delay(50);
        }

        await page.GetByTestId("composer-input").FillAsync("What do you see in these?");
        await page.GetByTestId("composer-input").PressAsync("Enter");
        var question = page.GetByTestId("message-user").Last;
        await Expect(question.GetByTestId("attachment-thumbnail")).ToHaveCountAsync(2);
        await Expect(previews).ToHaveCountAsync(0);
        var reply = page.GetByTestId("message-assistant").Last;
        await Expect(reply).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 20_000 });
        await Expect(reply.Locator(".msg-body")).ToContainTextAsync("I see 2 image(s).");

        var rows = await AttachmentsOfAsync(email);
        Assert.Equal(["dropped.png", "pasted.png"], rows.Select(a => a.FileName));
        Assert.All(rows, a => Assert.Equal("image/png", a.ContentType));
        var questionId = rows[0].MessageId;
        Assert.NotNull(questionId);
        Assert.All(rows, a => Assert.Equal(questionId, a.MessageId));
        Assert.Equal(questionId.ToString(), await question.GetAttributeAsync("data-message-id"));

        // After a reload the thumbnails are still on the question; a click opens the full image.
        await page.ReloadAsync();
        var thumbnails = page.GetByTestId("message-user").Last.GetByTestId("attachment-thumbnail");
        await Expect(thumbnails).ToHaveCountAsync(2);
        await Expect(thumbnails.First).ToHaveJSPropertyAsync("complete", true);
        Assert.True(await thumbnails.First.EvaluateAsync<int>("img => img.naturalWidth") > 0);
        var popup = await page.RunAndWaitForPopupAsync(() => thumbnails.First.ClickAsync());
        await popup.WaitForLoadStateAsync();
        Assert.EndsWith($"/api/attachments/{rows[0].Id}", popup.Url);
        Assert.Equal(96, await popup.Locator("img").EvaluateAsync<int>("img => img.naturalWidth"));
        await popup.CloseAsync();
    });
}
