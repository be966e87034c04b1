using System.Net;
using System.Text.Json;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Chat;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Chats; // not ".Chat": the mock tests call a helper named Chat()

/// <summary>Conversations are trees: edits and regenerations are versions, the branch shown is the one the user picked.</summary>
public sealed class VersionsTests(ChatTestApp app) : IClassFixture<ChatTestApp>
{
    [Fact]
    public async Task Regenerating_an_earlier_reply_and_editing_a_question_keep_every_version_and_the_page_numbers_them()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var first = await CompletedSendAsync(chat, "first question mock:tokens=3");
        var second = await CompletedSendAsync(chat, "second question mock:tokens=3", first.ConversationId);

        // Not the last reply: the first one gets a sibling; the turns after it stay under the old version.
        var again = await chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.RegenerateReply), first.ConversationId, first.AssistantMessageId, app.FreeModelId);
        await chat.CompletedAsync(again.AssistantMessageId);
        Assert.Equal(first.UserMessageId, again.UserMessageId);
        var edited = await chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Edit), first.ConversationId, first.UserMessageId, "first, edited mock:tokens=3", app.FreeModelId);
        await chat.CompletedAsync(edited.AssistantMessageId);

        var rows = await ParentsAsync(first.ConversationId);
        Assert.Equal(new Dictionary<long, long?>
        {
            [first.UserMessageId] = null, [first.AssistantMessageId] = first.UserMessageId,
            [second.UserMessageId] = first.AssistantMessageId, [second.AssistantMessageId] = second.UserMessageId,
            [again.AssistantMessageId] = first.UserMessageId,
            [edited.UserMessageId] = null, [edited.AssistantMessageId] = edited.UserMessageId,
        }, rows);

        // Back to the first question: lands on its newest reply (the regenerated one), numbered 2 of 2.
        var shown = await chat.Hub.InvokeAsync<VersionSwitch>(nameof(ChatHub.SwitchVersion), first.ConversationId, first.UserMessageId);
        Assert.Equal([first.UserMessageId, again.AssistantMessageId], shown.Branch);
        var page = await user.Http.GetStringAsync($"/{first.ConversationId}");
        Assert.Equal([first.UserMessageId, again.AssistantMessageId], MessageIds(page));
        Assert.Contains($"data-versions=\"{first.UserMessageId},{edited.UserMessageId}\"", page);
        Assert.Contains($"data-versions=\"{first.AssistantMessageId},{again.AssistantMessageId}\"", page);
        Assert.Contains("aria-label=\"Version 1 of 2\"", page);
        Assert.Contains("aria-label=\"Version 2 of 2\"", page);

        // The older reply brings its follow-up back with it.
        await chat.Hub.InvokeAsync<VersionSwitch>(nameof(ChatHub.SwitchVersion), first.ConversationId, first.AssistantMessageId);
        Assert.Equal([first.UserMessageId, first.AssistantMessageId, second.UserMessageId, second.AssistantMessageId],
            MessageIds(await user.Http.GetStringAsync($"/{first.ConversationId}")));
    }

    [Fact]
    public async Task After_switching_to_an_older_version_the_model_is_sent_that_branch_and_the_choice_is_kept()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var original = await CompletedSendAsync(chat, "alpha question mock:reply=Alpha answer");
        var edited = await chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Edit), original.ConversationId, original.UserMessageId, "beta question mock:reply=Beta answer", app.FreeModelId);
        await chat.CompletedAsync(edited.AssistantMessageId);

        var shown = await chat.Hub.InvokeAsync<VersionSwitch>(nameof(ChatHub.SwitchVersion), original.ConversationId, original.UserMessageId);
        Assert.Equal(original.AssistantMessageId, shown.LeafId);
        Assert.Equal(original.AssistantMessageId, await CurrentLeafAsync(original.ConversationId));
        var page = await user.Http.GetStringAsync($"/{original.ConversationId}"); // a reload shows the branch picked
        Assert.Equal([original.UserMessageId, original.AssistantMessageId], MessageIds(page));
        Assert.Contains($"data-version-id=\"{edited.UserMessageId}\" aria-label=\"Next version\"", page);

        // No ParentId: the question follows the branch shown, which the switch chose.
        var followUp = await CompletedSendAsync(chat, "gamma follow-up mock:tokens=3", original.ConversationId);
        Assert.Equal(original.AssistantMessageId, (await app.MessageAsync(followUp.UserMessageId)).ParentId);
        Assert.Equal([("user", "alpha question mock:reply=Alpha answer"), ("assistant", "Alpha answer"), ("user", "gamma follow-up mock:tokens=3")],
            SentUpstream("gamma follow-up"));
        Assert.Null(await CurrentLeafAsync(original.ConversationId)); // the new reply is the newest message: shown by default

        // An explicit ParentId (the last message another tab shows) wins over the branch shown.
        var onBeta = await chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Send),
            new SendRequest(original.ConversationId, app.FreeModelId, "delta on beta mock:tokens=3", edited.AssistantMessageId));
        await chat.CompletedAsync(onBeta.AssistantMessageId);
        Assert.Equal([("user", "beta question mock:reply=Beta answer"), ("assistant", "Beta answer"), ("user", "delta on beta mock:tokens=3")],
            SentUpstream("delta on beta"));

        // Regenerating a reply sends the path to its question only, not what came after it.
        var again = await chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.RegenerateReply), original.ConversationId, original.AssistantMessageId, app.FreeModelId);
        await chat.CompletedAsync(again.AssistantMessageId);
        var regenerated = app.Mock.State.Received.Last(r => r.Path.EndsWith("/chat/completions"));
        Assert.Equal([("user", "alpha question mock:reply=Alpha answer")], Turns(regenerated.Body));
    }

    [Fact]
    public async Task Another_users_messages_cannot_be_switched_to_or_regenerated()
    {
        var owner = await app.UserAsync();
        await using var ownerChat = await owner.ConnectAsync();
        var sent = await CompletedSendAsync(ownerChat, "owner's question mock:tokens=3");
        var edited = await ownerChat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Edit), sent.ConversationId, sent.UserMessageId, "owner's edit mock:tokens=3", app.FreeModelId);
        await ownerChat.CompletedAsync(edited.AssistantMessageId);

        var intruder = await app.UserAsync();
        await using var chat = await intruder.ConnectAsync();
        var own = await CompletedSendAsync(chat, "intruder's question mock:tokens=3");
        var notFound = await Assert.ThrowsAsync<HubException>(() =>
            chat.Hub.InvokeAsync<VersionSwitch>(nameof(ChatHub.SwitchVersion), sent.ConversationId, sent.UserMessageId));
        Assert.Contains("does not exist", notFound.Message);
        // The owner's message through the intruder's own conversation: not in it.
        var foreign = await Assert.ThrowsAsync<HubException>(() =>
            chat.Hub.InvokeAsync<VersionSwitch>(nameof(ChatHub.SwitchVersion), own.ConversationId, sent.UserMessageId));
        Assert.Contains("not in this conversation", foreign.Message);
        await Assert.ThrowsAsync<HubException>(() =>
            chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.RegenerateReply), sent.ConversationId, sent.AssistantMessageId, app.FreeModelId));
        var foreignReply = await Assert.ThrowsAsync<HubException>(() =>
            chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.RegenerateReply), own.ConversationId, sent.AssistantMessageId, app.FreeModelId));
        Assert.Contains("not a reply in this conversation", foreignReply.Message);
        await Assert.ThrowsAsync<HubException>(() => chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Send),
            new SendRequest(own.ConversationId, app.FreeModelId, "under theirs", sent.AssistantMessageId)));

        Assert.Null(await CurrentLeafAsync(sent.ConversationId));
        Assert.Equal(4, await app.QueryAsync(db => db.Messages.CountAsync(m => m.ConversationId == sent.ConversationId)));
        Assert.Equal(2, await app.QueryAsync(db => db.Messages.CountAsync(m => m.ConversationId == own.ConversationId)));
    }

    [Fact]
    public async Task A_switch_while_a_reply_streams_is_refused_and_the_reply_on_its_branch_resumes_after_a_reload_and_stops()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var original = await CompletedSendAsync(chat, "short one mock:tokens=3");
        var edited = await chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Edit), original.ConversationId, original.UserMessageId, "long one mock:tokens=400 mock:tps=25", app.FreeModelId);
        await chat.WaitForDeltasAsync(edited.AssistantMessageId, 2);

        var refused = await Assert.ThrowsAsync<HubException>(() =>
            chat.Hub.InvokeAsync<VersionSwitch>(nameof(ChatHub.SwitchVersion), original.ConversationId, original.UserMessageId));
        Assert.Contains("still being written", refused.Message);
        // Past the hub's early check (a reply started a moment ago): the write itself refuses.
        var (outcome, _) = await app.QueryAsync(async db =>
        {
            var conversation = await db.Conversations.SingleAsync(c => c.Id == original.ConversationId);
            return await new ConversationVersions(db, new Conversations(db)).SwitchAsync(conversation, original.UserMessageId, CancellationToken.None);
        });
        Assert.Equal(SwitchOutcome.Busy, outcome);
        Assert.Null(await CurrentLeafAsync(original.ConversationId));

        // A reload shows the edited branch with its reply live; the reply resumes and stops as any other.
        var page = await user.Http.GetStringAsync($"/{original.ConversationId}");
        Assert.Equal([edited.UserMessageId, edited.AssistantMessageId], MessageIds(page));
        Assert.Contains("data-live=\"true\"", page);
        await using var reloaded = await user.ConnectAsync();
        var resumed = await reloaded.Hub.InvokeAsync<ResumeResult>(nameof(ChatHub.Resume), edited.AssistantMessageId, 0);
        Assert.True(resumed.Live);
        Assert.True(await reloaded.Hub.InvokeAsync<bool>(nameof(ChatHub.Stop), original.ConversationId));
        var done = await chat.CompletedAsync(edited.AssistantMessageId);
        Assert.Equal("stopped", done.Status);
        var saved = await app.MessageAsync(edited.AssistantMessageId);
        Assert.Equal(string.Concat(chat.DeltasOf(edited.AssistantMessageId).Select(d => d.Text)), saved.Content);
        Assert.Equal(edited.UserMessageId, saved.ParentId);

        // Once it has stopped, the switch goes through.
        var shown = await chat.Hub.InvokeAsync<VersionSwitch>(nameof(ChatHub.SwitchVersion), original.ConversationId, original.UserMessageId);
        Assert.Equal(original.AssistantMessageId, shown.LeafId);
    }

    [Fact]
    public async Task Search_finds_a_conversation_by_words_that_are_only_in_a_branch_not_shown()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var sent = await CompletedSendAsync(chat, "okapi facts please mock:reply=Giraffe cousins");
        var edited = await chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Edit), sent.ConversationId, sent.UserMessageId, "lion facts mock:reply=Big cats", app.FreeModelId);
        await chat.CompletedAsync(edited.AssistantMessageId);
        Assert.DoesNotContain("okapi", await user.Http.GetStringAsync($"/{sent.ConversationId}"));

        foreach (var words in new[] { "OKAPI", "giraffe cousins" })
        {
            var found = await chat.Hub.InvokeAsync<ConversationPage>(nameof(ChatHub.ListConversations), words, null);
            Assert.Equal([sent.ConversationId], found.Items.Select(c => c.Id));
        }
    }

    async Task<SendResult> CompletedSendAsync(ChatConnection chat, string text, Guid? conversationId = null)
    {
        var sent = await chat.SendAsync(app.FreeModelId, text, conversationId);
        Assert.Equal("complete", (await chat.CompletedAsync(sent.AssistantMessageId)).Status);
        return sent;
    }

    Task<Dictionary<long, long?>> ParentsAsync(Guid conversationId) =>
        app.QueryAsync(db => db.Messages.Where(m => m.ConversationId == conversationId).ToDictionaryAsync(m => m.Id, m => m.ParentId));

    Task<long?> CurrentLeafAsync(Guid conversationId) =>
        app.QueryAsync(db => db.Conversations.Where(c => c.Id == conversationId).Select(c => c.CurrentLeafId).SingleAsync());

    /// <summary>The turns of the one chat request whose last message contains <paramref name="marker"/>, as the mock received them.</summary>
    List<(string Role, string Content)> SentUpstream(string marker) =>
        Turns(app.Mock.State.Received.Single(r => r.Path.EndsWith("/chat/completions") && Turns(r.Body) is [.., (_, var last)] && last.Contains(marker)).Body);

    static List<(string Role, string Content)> Turns(string body) =>
        JsonDocument.Parse(body).RootElement.GetProperty("messages").EnumerateArray()
            .Where(m => m.GetProperty("role").GetString() != "system") // instructions are not the branch
            .Select(m => (m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToList();

    /// <summary>The messages the page shows, in order.</summary>
    static List<long> MessageIds(string page) =>
        System.Text.RegularExpressions.Regex.Matches(page, "<article class=\"msg [^\"]*\" data-message-id=\"(\\d+)\"")
            .Select(m => long.Parse(m.Groups[1].Value)).ToList();
}
