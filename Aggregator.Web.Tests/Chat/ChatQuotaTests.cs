using Aggregator.Web.Features.Chat;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Tests.Chats; // not ".Chat": the mock tests call a helper named Chat()

/// <summary>The chat app with a free tier of one message a day.</summary>
public sealed class OneMessageQuotaApp : ChatTestApp
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Quotas:Free:MessagesPerDay"] = "1",
    };
}

public sealed class ChatQuotaTests(OneMessageQuotaApp app) : IClassFixture<OneMessageQuotaApp>
{
    [Fact]
    public async Task An_over_quota_send_gets_a_clear_error_and_writes_no_question_and_no_conversation()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var first = await chat.SendAsync(app.FreeModelId, "the one allowed mock:tokens=3");
        Assert.Equal("complete", (await chat.CompletedAsync(first.AssistantMessageId)).Status);

        var inSame = await Assert.ThrowsAsync<HubException>(() => chat.SendAsync(app.FreeModelId, "one more", first.ConversationId));
        Assert.Contains("Daily limit of 1 messages for the Free tier reached", inSame.Message);
        var inNew = await Assert.ThrowsAsync<HubException>(() => chat.SendAsync(app.FreeModelId, "a new chat"));
        Assert.Contains("Daily limit", inNew.Message);
        // Regenerate would first drop the reply it replaces: refused before that, the reply stays.
        await Assert.ThrowsAsync<HubException>(() => chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Regenerate), first.ConversationId, app.FreeModelId));

        var messages = await app.QueryAsync(db => db.Messages.AsNoTracking()
            .Where(m => m.Conversation!.UserId == user.UserId).OrderBy(m => m.Id).Select(m => m.Id).ToListAsync());
        Assert.Equal([first.UserMessageId, first.AssistantMessageId], messages);
        Assert.Equal(1, await app.QueryAsync(db => db.Conversations.CountAsync(c => c.UserId == user.UserId)));
    }
}
