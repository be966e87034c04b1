using Aggregator.E2E.Infrastructure;
using Aggregator.Web.Data;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Chat;

/// <summary>Editing and regenerating make versions; ‹ › moves between them and the conversation follows the branch picked.</summary>
[Collection(BrowserCollection.Name)]
public sealed class VersionsJourneyTests(BrowserFixture browser, ChatKestrelApp app) : BrowserTest(browser, app), IClassFixture<ChatKestrelApp>
{
    const int Slow = 20_000; // a reply on a machine shared with other test runs

    [Fact]
    public Task An_edited_question_has_two_versions_and_a_follow_up_on_the_first_one_continues_that_branch() => InBrowserAsync(async page =>
    {
        var email = $"versions-{Guid.NewGuid():N}@example.com";
        await RegisterAsync(page, email);
        await page.GotoAsync("/");
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
        await PickModelAsync(page);
        await SendAsync(page, "Original question mock:reply=Original answer");
        await Expect(page.GetByTestId("message-assistant").Last).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = Slow });

        var question = page.GetByTestId("message-user").First;
        await question.GetByTestId("edit").ClickAsync();
        await question.GetByRole(AriaRole.Textbox, new() { Name = "Edit message" }).FillAsync("Edited question mock:tokens=60 mock:tps=15");
        await question.GetByRole(AriaRole.Button, new() { Name = "Save and resend" }).ClickAsync();
        await Expect(question.GetByTestId("version-label")).ToHaveTextAsync("2 / 2");
        // While the new reply is written, versions are not offered (a switch would be refused).
        await Expect(page.GetByTestId("message-assistant").Last).ToHaveAttributeAsync("data-status", "streaming");
        await Expect(question.GetByRole(AriaRole.Button, new() { Name = "Previous version" })).ToBeHiddenAsync();
        await Expect(page.GetByTestId("message-assistant").Last).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = Slow });
        await Expect(page.GetByTestId("message-assistant")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("message-assistant").Last.Locator(".msg-body")).ToContainTextAsync("Edited question");
        await Expect(question.GetByRole(AriaRole.Button, new() { Name = "Next version" })).ToBeDisabledAsync();

        await question.GetByRole(AriaRole.Button, new() { Name = "Previous version" }).ClickAsync();
        await Expect(question.GetByTestId("version-label")).ToHaveTextAsync("1 / 2");
        await Expect(question.Locator(".msg-body")).ToHaveTextAsync("Original question mock:reply=Original answer");
        await Expect(page.GetByTestId("message-assistant").Last.Locator(".msg-body")).ToHaveTextAsync("Original answer");
        await Expect(question.GetByRole(AriaRole.Button, new() { Name = "Previous version" })).ToBeDisabledAsync();
        await Expect(question.GetByRole(AriaRole.Button, new() { Name = "Next version" })).ToBeFocusedAsync(); // keyboard users stay on the control
        await Expect(page.GetByTestId("chat-status")).ToHaveTextAsync("Version 1 of 2");
        await AssertNoSeriousViolationsAsync(page);

        await SendAsync(page, "Follow-up on the original mock:reply=Follow-up answer");
        await Expect(page.GetByTestId("message-assistant").Last.Locator(".msg-body")).ToHaveTextAsync("Follow-up answer", new() { Timeout = Slow });
        var (original, followUp) = await QuestionsAsync(email, "Original question mock:reply=Original answer", "Follow-up on the original mock:reply=Follow-up answer");
        var originalReply = await ReplyToAsync(original.Id);
        Assert.Equal(originalReply.Id, followUp.ParentId);

        // A reload shows the branch picked.
        await page.ReloadAsync();
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
        await Expect(page.Locator("[data-testid=message-user] .msg-body"))
            .ToHaveTextAsync(["Original question mock:reply=Original answer", "Follow-up on the original mock:reply=Follow-up answer"]);
        question = page.GetByTestId("message-user").First;
        await Expect(question.GetByTestId("version-label")).ToHaveTextAsync("1 / 2");

        // Regenerate an earlier reply (not the last): a second version of it, without the follow-up; ‹ brings the follow-up back.
        var firstReply = page.GetByTestId("message-assistant").First;
        await firstReply.GetByTestId("regenerate").ClickAsync();
        await Expect(page.GetByTestId("message-assistant")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("message-user")).ToHaveCountAsync(1);
        firstReply = page.GetByTestId("message-assistant").First;
        await Expect(firstReply.GetByTestId("version-label")).ToHaveTextAsync("2 / 2");
        await Expect(firstReply).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = Slow });
        Assert.Equal(2, await CountAsync(m => m.ParentId == original.Id));
        await AssertNoSeriousViolationsAsync(page);

        await firstReply.GetByRole(AriaRole.Button, new() { Name = "Previous version" }).ClickAsync();
        await Expect(page.GetByTestId("message-user")).ToHaveCountAsync(2);
        await Expect(page.GetByTestId("message-assistant").Last.Locator(".msg-body")).ToHaveTextAsync("Follow-up answer");
        await Expect(page.GetByTestId("message-assistant").First.GetByTestId("version-label")).ToHaveTextAsync("1 / 2");
    });

    [Fact]
    public Task An_edit_made_in_another_tab_shows_its_branch_here_and_its_reply_streams_in() => InBrowserAsync(async page =>
    {
        await RegisterAsync(page, $"versions-{Guid.NewGuid():N}@example.com");
        await page.GotoAsync("/");
        await Expect(page.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
        await PickModelAsync(page);
        await SendAsync(page, "Asked in one tab mock:reply=First answer");
        await Expect(page.GetByTestId("message-assistant").Last.Locator(".msg-body")).ToHaveTextAsync("First answer", new() { Timeout = Slow });

        var other = await page.Context.NewPageAsync();
        await other.GotoAsync(page.Url);
        await Expect(other.Locator("#chat-app")).ToHaveAttributeAsync("data-ready", "true");
        var question = other.GetByTestId("message-user").First;
        await question.GetByTestId("edit").ClickAsync();
        await question.GetByRole(AriaRole.Textbox, new() { Name = "Edit message" }).FillAsync("Changed in the other tab mock:tokens=60 mock:tps=15");
        await question.GetByRole(AriaRole.Button, new() { Name = "Save and resend" }).ClickAsync();

        // The first tab follows: the edited question (2 / 2) and its reply, live, instead of the old branch.
        await Expect(page.Locator("[data-testid=message-user] .msg-body")).ToHaveTextAsync(["Changed in the other tab mock:tokens=60 mock:tps=15"]);
        await Expect(page.GetByTestId("message-user").First.GetByTestId("version-label")).ToHaveTextAsync("2 / 2");
        await Expect(page.GetByTestId("message-assistant")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("stop")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("message-assistant").Last).ToHaveAttributeAsync("data-status", "complete", new() { Timeout = Slow });
        await Expect(page.GetByTestId("message-assistant").Last.Locator(".msg-body h2")).ToHaveTextAsync("Mock reply");
        await Expect(page.GetByTestId("stop")).ToBeHiddenAsync();
    });

    static async Task PickModelAsync(IPage page)
    {
        await page.GetByTestId("model-button").ClickAsync();
        await page.GetByTestId("model-search").FillAsync("mini");
        await Expect(page.GetByTestId("model-list").GetByRole(AriaRole.Option).First).ToContainTextAsync("GPT-4o mini");
        await page.GetByTestId("model-search").PressAsync("Enter");
        await Expect(page.GetByTestId("model-button")).ToContainTextAsync("GPT-4o mini");
    }

    static async Task SendAsync(IPage page, string text)
    {
        await page.GetByTestId("composer-input").FillAsync(text);
        await page.GetByTestId("composer-input").PressAsync("Enter");
    }

    async Task<T> QueryAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    async Task<(Message, Message)> QuestionsAsync(string email, string first, string second)
    {
        var questions = await QueryAsync(db => db.Messages.AsNoTracking()
            .Where(m => m.Role == MessageRole.User && db.Users.Any(u => u.Id == m.Conversation!.UserId && u.Email == email)).ToListAsync());
        return (questions.Single(m => m.Content == first), questions.Single(m => m.Content == second));
    }

    Task<Message> ReplyToAsync(long questionId) =>
        QueryAsync(db => db.Messages.AsNoTracking().SingleAsync(m => m.ParentId == questionId));

    Task<int> CountAsync(System.Linq.Expressions.Expression<Func<Message, bool>> where) => QueryAsync(db => db.Messages.CountAsync(where));
}
