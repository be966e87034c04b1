using Aggregator.Web.Data;
using Aggregator.Web.Features.Chat;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Tests.Chats; // not ".Chat": the mock tests call a helper named Chat()

/// <summary>One question to several models: a reply per column, each counted, one kept to go on with.</summary>
public sealed class CompareTests(ChatTestApp app) : IClassFixture<ChatTestApp>
{
    static Task<CompareResult> CompareAsync(ChatConnection chat, string text, Guid? conversationId, params long[] models) =>
        chat.Hub.InvokeAsync<CompareResult>(nameof(ChatHub.Compare), new CompareRequest(conversationId, models, text));

    [Fact]
    public async Task A_compare_streams_one_reply_per_model_side_by_side_under_one_question()
    {
        var user = await app.UserAsync(Tier.Pro);
        await using var chat = await user.ConnectAsync();
        var asked = app.Mock.State.Received.Count;
        var result = await CompareAsync(chat, "Which is better? mock:tokens=6", null, app.FreeModelId, app.ProModelId);

        Assert.Equal(2, result.AssistantMessageIds.Count);
        foreach (var id in result.AssistantMessageIds) Assert.Equal("complete", (await chat.CompletedAsync(id)).Status);
        var replies = await app.QueryAsync(db => db.Messages.AsNoTracking().Where(m => m.ParentId == result.UserMessageId).OrderBy(m => m.Slot).ToListAsync());
        Assert.Equal(result.AssistantMessageIds, replies.Select(r => r.Id));
        Assert.Equal([0, 1], replies.Select(r => r.Slot));
        Assert.Equal(["gpt-4o-mini", "gpt-4o"], replies.Select(r => r.ModelName));
        Assert.NotNull(replies[0].CompareGroup);
        Assert.Equal(replies[0].CompareGroup, replies[1].CompareGroup);
        // Each model was asked, once, with the question.
        var requests = app.Mock.State.Received.Skip(asked).Where(r => r.Body.Contains("Which is better?")).ToList();
        Assert.Equal(2, requests.Count);
        Assert.Contains(requests, r => r.Body.Contains("\"model\":\"gpt-4o-mini\""));
        Assert.Contains(requests, r => r.Body.Contains("\"model\":\"gpt-4o\""));
        // Each counted: two usage rows, one per reply (written in batches: polled for a while).
        List<long?> usage = [];
        for (var until = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < until; await Task.Delay(50))
        {
            usage = await app.QueryAsync(db => db.Usage.Where(u => u.UserId == user.UserId).Select(u => u.MessageId).ToListAsync());
            if (usage.Count >= 2) break;
        }
        Assert.Equal(result.AssistantMessageIds.Order(), usage.Select(u => u!.Value).Order());

        // Until one is kept the page shows both columns, each with its Keep button.
        var page = await user.Http.GetStringAsync($"/{result.ConversationId}");
        Assert.Contains("data-testid=\"compare\"", page);
        Assert.Equal(2, CountOf(page, "data-testid=\"keep-answer\""));
        foreach (var id in result.AssistantMessageIds) Assert.Contains($"data-message-id=\"{id}\"", page);
    }

    [Fact]
    public async Task The_kept_answer_continues_the_conversation_and_the_other_stays_as_a_version()
    {
        var user = await app.UserAsync(Tier.Pro);
        await using var chat = await user.ConnectAsync();
        var result = await CompareAsync(chat, "Pick one mock:tokens=4", null, app.FreeModelId, app.ProModelId);
        foreach (var id in result.AssistantMessageIds) await chat.CompletedAsync(id);
        await app.FinishedAsync(result.AssistantMessageIds[1]);
        // Tell the two answers apart in what the model is sent next.
        await app.QueryAsync(db => db.Messages.Where(m => m.Id == result.AssistantMessageIds[0]).ExecuteUpdateAsync(s => s.SetProperty(m => m.Content, "ANSWER-FROM-A")));
        await app.QueryAsync(db => db.Messages.Where(m => m.Id == result.AssistantMessageIds[1]).ExecuteUpdateAsync(s => s.SetProperty(m => m.Content, "ANSWER-FROM-B")));

        await chat.Hub.InvokeAsync(nameof(ChatHub.KeepAnswer), result.ConversationId, result.AssistantMessageIds[1]);
        var page = await user.Http.GetStringAsync($"/{result.ConversationId}");
        Assert.DoesNotContain("data-testid=\"compare\"", page);
        Assert.Contains($"data-message-id=\"{result.AssistantMessageIds[1]}\"", page);
        Assert.DoesNotContain($"data-message-id=\"{result.AssistantMessageIds[0]}\"", page);

        var asked = app.Mock.State.Received.Count;
        var next = await chat.SendAsync(app.FreeModelId, "Go on mock:tokens=3", result.ConversationId);
        await chat.CompletedAsync(next.AssistantMessageId);
        var question = await app.MessageAsync(next.UserMessageId);
        Assert.Equal(result.AssistantMessageIds[1], question.ParentId);
        var sent = app.Mock.State.Received.Skip(asked).Single(r => r.Body.Contains("Go on"));
        Assert.Contains("ANSWER-FROM-B", sent.Body);
        Assert.DoesNotContain("ANSWER-FROM-A", sent.Body);
        // Nothing was deleted: the other answer is still a sibling of the kept one.
        Assert.Equal(2, await app.QueryAsync(db => db.Messages.CountAsync(m => m.ParentId == result.UserMessageId)));
    }

    [Fact]
    public async Task Stop_stops_every_column()
    {
        var user = await app.UserAsync(Tier.Pro);
        await using var chat = await user.ConnectAsync();
        var result = await CompareAsync(chat, "Long one mock:tokens=400 mock:fault=slow:30", null, app.FreeModelId, app.ProModelId);
        foreach (var id in result.AssistantMessageIds) await chat.WaitForDeltasAsync(id, 1);

        Assert.True(await chat.Hub.InvokeAsync<bool>(nameof(ChatHub.Stop), result.ConversationId));
        foreach (var id in result.AssistantMessageIds) Assert.Equal("stopped", (await chat.CompletedAsync(id)).Status);
    }

    [Fact]
    public async Task Bad_compares_are_refused_clearly_and_write_nothing()
    {
        var user = await app.UserAsync(Tier.Free);
        await using var chat = await user.ConnectAsync();

        var one = await Assert.ThrowsAsync<HubException>(() => CompareAsync(chat, "q", null, app.FreeModelId));
        Assert.Contains("Compare takes 2 or 3 models", one.Message);
        var four = await Assert.ThrowsAsync<HubException>(() => CompareAsync(chat, "q", null, app.FreeModelId, app.ProModelId, app.HiddenModelId, 999_999));
        Assert.Contains("Compare takes 2 or 3 models", four.Message);
        var same = await Assert.ThrowsAsync<HubException>(() => CompareAsync(chat, "q", null, app.FreeModelId, app.FreeModelId));
        Assert.Contains("different models", same.Message);
        var locked = await Assert.ThrowsAsync<HubException>(() => CompareAsync(chat, "q", null, app.FreeModelId, app.ProModelId));
        Assert.Contains("needs the pro tier", locked.Message);
        var hidden = await Assert.ThrowsAsync<HubException>(() => CompareAsync(chat, "q", null, app.FreeModelId, app.HiddenModelId));
        Assert.Contains("not available", hidden.Message);
        await Assert.ThrowsAsync<HubException>(() => CompareAsync(chat, " ", null, app.FreeModelId, app.ProModelId));

        Assert.Equal(0, await app.QueryAsync(db => db.Conversations.CountAsync(c => c.UserId == user.UserId)));
    }

    [Fact]
    public async Task Another_users_conversation_cannot_be_compared_into_or_kept_from()
    {
        var owner = await app.UserAsync(Tier.Pro);
        await using var ownerChat = await owner.ConnectAsync();
        var result = await CompareAsync(ownerChat, "Mine mock:tokens=3", null, app.FreeModelId, app.ProModelId);
        foreach (var id in result.AssistantMessageIds) await ownerChat.CompletedAsync(id);

        var other = await app.UserAsync(Tier.Pro);
        await using var otherChat = await other.ConnectAsync();
        await Assert.ThrowsAsync<HubException>(() => CompareAsync(otherChat, "Theirs", result.ConversationId, app.FreeModelId, app.ProModelId));
        await Assert.ThrowsAsync<HubException>(() => otherChat.Hub.InvokeAsync(nameof(ChatHub.KeepAnswer), result.ConversationId, result.AssistantMessageIds[0]));
        // A message of another conversation is not an answer of this one.
        var mine = await ownerChat.SendAsync(app.FreeModelId, "Elsewhere mock:tokens=2");
        await ownerChat.CompletedAsync(mine.AssistantMessageId);
        await Assert.ThrowsAsync<HubException>(() => ownerChat.Hub.InvokeAsync(nameof(ChatHub.KeepAnswer), result.ConversationId, mine.AssistantMessageId));

        Assert.Null(await app.QueryAsync(db => db.Conversations.Where(c => c.Id == result.ConversationId).Select(c => c.CurrentLeafId).SingleAsync()));
        Assert.Equal(3, await app.QueryAsync(db => db.Messages.CountAsync(m => m.ConversationId == result.ConversationId)));
    }

    static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}

/// <summary>A pro tier of three messages a day: a compare of two fits once, and then no second one.</summary>
public sealed class ThreeMessageQuotaApp : ChatTestApp
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Quotas:Pro:MessagesPerDay"] = "3",
    };
}

public sealed class CompareQuotaTests(ThreeMessageQuotaApp app) : IClassFixture<ThreeMessageQuotaApp>
{
    [Fact]
    public async Task Each_column_counts_against_the_quota_and_a_compare_that_does_not_fit_writes_nothing_and_takes_nothing()
    {
        var user = await app.UserAsync(Tier.Pro);
        await using var chat = await user.ConnectAsync();
        var first = await chat.Hub.InvokeAsync<CompareResult>(nameof(ChatHub.Compare), new CompareRequest(null, [app.FreeModelId, app.ProModelId], "two of three mock:tokens=2"));
        foreach (var id in first.AssistantMessageIds) Assert.Equal("complete", (await chat.CompletedAsync(id)).Status);

        // One message left: a compare of two does not fit; the one it could take is given back.
        var refused = await Assert.ThrowsAsync<HubException>(() => chat.Hub.InvokeAsync<CompareResult>(nameof(ChatHub.Compare),
            new CompareRequest(first.ConversationId, [app.FreeModelId, app.ProModelId], "two more")));
        Assert.Contains("counts 2 messages", refused.Message);
        Assert.Equal(3, await app.QueryAsync(db => db.Messages.CountAsync(m => m.ConversationId == first.ConversationId)));
        var last = await chat.SendAsync(app.FreeModelId, "the last one mock:tokens=2", first.ConversationId);
        Assert.Equal("complete", (await chat.CompletedAsync(last.AssistantMessageId)).Status);
        await Assert.ThrowsAsync<HubException>(() => chat.SendAsync(app.FreeModelId, "over", first.ConversationId));
    }
}
