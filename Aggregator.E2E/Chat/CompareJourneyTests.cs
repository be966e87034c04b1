using Aggregator.E2E.Infrastructure;
using Aggregator.Web.Data;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Chat;

/// <summary>Compare in the browser: two models side by side, keep one, go on with it.</summary>
[Collection(BrowserCollection.Name)]
public sealed class CompareJourneyTests(BrowserFixture browser, ChatKestrelApp app) : BrowserTest(browser, app), IClassFixture<ChatKestrelApp>
{
    [Fact]
    public Task Two_models_answer_side_by_side_and_the_kept_answer_continues_the_conversation() => InBrowserAsync(async page =>
    {
        var email = $"compare-{Guid.NewGuid():N}@example.com";
        await RegisterAsync(page, email);
        await page.GotoAsync("/");
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");

        await page.GetByTestId("compare-toggle").ClickAsync();
        await Expect(page.GetByTestId("compare-toggle")).ToHaveAttributeAsync("aria-pressed", "true");
        var second = page.GetByTestId("compare-model").First;
        await Expect(second).ToBeFocusedAsync();
        // The selected model (the first of the list: DeepSeek Chat) answers in the first column, the one chosen here in the second.
        await Expect(page.GetByTestId("model-button")).ToContainTextAsync("DeepSeek Chat");
        var mini = await second.Locator("option", new() { HasText = "gpt-4o-mini" }).GetAttributeAsync("value");
        await second.SelectOptionAsync(mini!);
        await page.GetByTestId("composer-input").FillAsync("Compare this mock:tokens=40 mock:tps=40");
        await page.GetByTestId("composer-input").PressAsync("Enter");

        var columns = page.GetByTestId("compare-column");
        await Expect(columns).ToHaveCountAsync(2);
        // Both stream, each in its own column, and both finish.
        foreach (var i in new[] { 0, 1 })
            await Expect(columns.Nth(i).GetByTestId("message-assistant")).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 20_000 });
        await Expect(columns.Nth(0).GetByTestId("message-meta")).ToContainTextAsync("deepseek-chat");
        await Expect(columns.Nth(1).GetByTestId("message-meta")).ToContainTextAsync("gpt-4o-mini");
        await AssertNoSeriousViolationsAsync(page);

        // Sending before keeping one is refused with a reason, nothing sent.
        await page.GetByTestId("composer-input").FillAsync("Next");
        await page.GetByTestId("composer-input").PressAsync("Enter");
        await Expect(page.GetByTestId("composer-error")).ToContainTextAsync("Keep one of the answers first");

        // Reload: still side by side until one is kept.
        await page.ReloadAsync();
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
        await Expect(page.GetByTestId("compare-column")).ToHaveCountAsync(2);
        var keptId = long.Parse((await page.GetByTestId("compare-column").Nth(1).GetByTestId("message-assistant").GetAttributeAsync("data-message-id"))!);
        await page.GetByTestId("compare-column").Nth(1).GetByTestId("keep-answer").ClickAsync();
        await Expect(page.GetByTestId("compare")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("message-assistant")).ToHaveCountAsync(1);
        await Expect(page.Locator($"[data-message-id='{keptId}']")).ToBeVisibleAsync();

        await page.GetByTestId("composer-input").FillAsync("Go on with it mock:tokens=5");
        await page.GetByTestId("composer-input").PressAsync("Enter");
        await Expect(page.GetByTestId("message-assistant").Last).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = 20_000 });

        await using var scope = App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var question = await db.Messages.AsNoTracking().Where(m => m.Role == MessageRole.User && m.Content == "Go on with it mock:tokens=5"
            && db.Users.Any(u => u.Id == m.Conversation!.UserId && u.Email == email)).SingleAsync();
        Assert.Equal(keptId, question.ParentId);
        var compared = await db.Messages.AsNoTracking().Where(m => m.CompareGroup != null && db.Users.Any(u => u.Id == m.Conversation!.UserId && u.Email == email))
            .OrderBy(m => m.Slot).Select(m => m.ModelName).ToListAsync();
        Assert.Equal(["deepseek-chat", "gpt-4o-mini"], compared);
    });
}
