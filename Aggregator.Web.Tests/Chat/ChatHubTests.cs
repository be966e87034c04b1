using System.Net;
using Microsoft.AspNetCore.Http.Connections;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Chats; // not ".Chat": the mock tests call a helper named Chat()

public sealed class ChatHubTests(ChatTestApp app) : IClassFixture<ChatTestApp>
{
    [Fact]
    public async Task Tokens_arrive_in_order_with_sequence_numbers_and_the_reply_is_saved_with_stats_and_a_title()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();

        var sent = await chat.SendAsync(app.FreeModelId, "Tell me about streams mock:tokens=40");
        var done = await chat.CompletedAsync(sent.AssistantMessageId);

        Assert.Equal("complete", done.Status);
        var deltas = chat.DeltasOf(sent.AssistantMessageId);
        Assert.Equal(Enumerable.Range(1, deltas.Count), deltas.Select(d => d.Seq));
        Assert.InRange(deltas.Count, 1, 40); // numbered pushes: tokens close together share one
        var saved = await app.MessageAsync(sent.AssistantMessageId);
        Assert.Equal(MessageStatus.Complete, saved.Status);
        Assert.Equal(string.Concat(deltas.Select(d => d.Text)), saved.Content);
        Assert.Equal(deltas.Count, saved.Seq);
        Assert.Equal("gpt-4o-mini", saved.ModelName);
        Assert.NotNull(saved.TimeToFirstTokenMs);
        Assert.NotNull(saved.DurationMs);
        Assert.True(saved.CompletionTokens > 0);
        Assert.Equal("stop", saved.FinishReason);
        Assert.Contains("<h2", done.Html); // the mock's Markdown, rendered by Markdig

        var conversation = await app.QueryAsync(db => db.Conversations.AsNoTracking().SingleAsync(c => c.Id == sent.ConversationId));
        Assert.Equal("Tell me about streams mock:tokens=40", conversation.Title);
        Assert.Equal(app.FreeModelId, conversation.ModelId);
    }

    [Fact]
    public async Task Stop_keeps_the_partial_reply_with_status_stopped()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();

        var sent = await chat.SendAsync(app.FreeModelId, "long one mock:tokens=500 mock:tps=25");
        await chat.WaitForDeltasAsync(sent.AssistantMessageId, 3);
        Assert.True(await chat.Hub.InvokeAsync<bool>(nameof(ChatHub.Stop), sent.ConversationId));
        var done = await chat.CompletedAsync(sent.AssistantMessageId);

        Assert.Equal("stopped", done.Status);
        var saved = await app.MessageAsync(sent.AssistantMessageId);
        Assert.Equal(MessageStatus.Stopped, saved.Status);
        Assert.NotEmpty(saved.Content);
        Assert.True(saved.Seq is >= 3 and < 500, $"seq {saved.Seq}");
        Assert.Equal(string.Concat(chat.DeltasOf(sent.AssistantMessageId).Select(d => d.Text)), saved.Content);
    }

    [Fact]
    public async Task Closing_the_connection_mid_stream_does_not_stop_the_generation()
    {
        var user = await app.UserAsync();
        var chat = await user.ConnectAsync();
        var sent = await chat.SendAsync(app.FreeModelId, "keep going mock:tokens=40 mock:tps=40");
        await chat.WaitForDeltasAsync(sent.AssistantMessageId, 3);
        await chat.DisposeAsync();

        var saved = await app.FinishedAsync(sent.AssistantMessageId);
        Assert.Equal(MessageStatus.Complete, saved.Status);
        Assert.Equal(40, saved.CompletionTokens);
        Assert.Equal(saved.Html, app.Services.GetRequiredService<MarkdownRenderer>().Render(saved.Content));
    }

    [Fact]
    public async Task A_reconnecting_client_resumes_from_its_sequence_number_and_the_page_shows_the_text_so_far()
    {
        var user = await app.UserAsync();
        var first = await user.ConnectAsync();
        var sent = await first.SendAsync(app.FreeModelId, "resume me mock:tokens=120 mock:tps=30");
        await first.WaitForDeltasAsync(sent.AssistantMessageId, 5);
        await first.DisposeAsync();
        var before = first.DeltasOf(sent.AssistantMessageId);
        var lastSeq = before.Max(d => d.Seq);
        // Deltas go on being produced while nobody listens.
        var generation = app.Services.GetRequiredService<GenerationManager>().Find(sent.AssistantMessageId, user.UserId);
        Assert.NotNull(generation);
        await Eventually.Until(() => generation.Snapshot().Seq >= lastSeq + 3, "deltas produced while disconnected");

        // A reload: the page carries the live text and its sequence number.
        var page = await user.Http.GetStringAsync($"/{sent.ConversationId}");
        Assert.Contains("data-live=\"true\"", page);

        await using var second = await user.ConnectAsync();
        var resumed = await second.Hub.InvokeAsync<ResumeResult>(nameof(ChatHub.Resume), sent.AssistantMessageId, lastSeq);
        Assert.True(resumed.Live);
        Assert.Null(resumed.Content);
        Assert.NotEmpty(resumed.Deltas);
        Assert.Equal(Enumerable.Range(lastSeq + 1, resumed.Deltas.Count), resumed.Deltas.Select(d => d.Seq));

        var done = await second.CompletedAsync(sent.AssistantMessageId);
        var all = before.Concat(resumed.Deltas).Concat(second.DeltasOf(sent.AssistantMessageId))
            .GroupBy(d => d.Seq).Select(g => g.First()).OrderBy(d => d.Seq).ToList();
        Assert.Equal(Enumerable.Range(1, done.Seq), all.Select(d => d.Seq));
        Assert.Equal((await app.MessageAsync(sent.AssistantMessageId)).Content, string.Concat(all.Select(d => d.Text)));

        // After the end, a resume hands over the final state.
        var late = await second.Hub.InvokeAsync<ResumeResult>(nameof(ChatHub.Resume), sent.AssistantMessageId, lastSeq);
        Assert.False(late.Live);
        Assert.Equal("complete", late.Completed!.Status);
    }

    [Fact]
    public async Task Another_users_conversation_is_not_found_on_pages_and_on_the_hub()
    {
        var owner = await app.UserAsync();
        await using var ownerChat = await owner.ConnectAsync();
        var sent = await ownerChat.SendAsync(app.FreeModelId, "private mock:tokens=5");
        await ownerChat.CompletedAsync(sent.AssistantMessageId);
        Assert.Equal(HttpStatusCode.OK, (await owner.Http.GetAsync($"/{sent.ConversationId}")).StatusCode);

        var intruder = await app.UserAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await intruder.Http.GetAsync($"/{sent.ConversationId}")).StatusCode);
        await using var chat = await intruder.ConnectAsync();
        var hub = chat.Hub;
        await Assert.ThrowsAsync<HubException>(() => chat.SendAsync(app.FreeModelId, "mine now", sent.ConversationId));
        await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<ConversationSummary>(nameof(ChatHub.Rename), sent.ConversationId, "pwned"));
        await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync(nameof(ChatHub.Delete), sent.ConversationId));
        await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync(nameof(ChatHub.SetModel), sent.ConversationId, app.FreeModelId));
        await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<SendResult>(nameof(ChatHub.Regenerate), sent.ConversationId, app.FreeModelId));
        await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<SendResult>(nameof(ChatHub.Edit), sent.ConversationId, sent.UserMessageId, "x", app.FreeModelId));
        await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<ResumeResult>(nameof(ChatHub.Resume), sent.AssistantMessageId, 0));
        Assert.False(await hub.InvokeAsync<bool>(nameof(ChatHub.Stop), sent.ConversationId));
        var list = await hub.InvokeAsync<ConversationPage>(nameof(ChatHub.ListConversations), "private", null);
        Assert.Empty(list.Items);

        var conversation = await app.QueryAsync(db => db.Conversations.AsNoTracking().SingleAsync(c => c.Id == sent.ConversationId));
        Assert.Null(conversation.DeletedAt);
        Assert.NotEqual("pwned", conversation.Title);
        Assert.Equal(2, await app.QueryAsync(db => db.Messages.CountAsync(m => m.ConversationId == sent.ConversationId)));
    }

    [Fact]
    public async Task A_reply_with_script_img_onerror_javascript_links_and_raw_html_is_rendered_inert()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        const string payload = "mock:reply=<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3)) " +
                               "<javascript:alert(4)> <a href=\"https://evil.example\" onclick=\"alert(5)\">raw</a> ![p](https://evil.example/p.png) [ok](https://example.com)";
        var sent = await chat.SendAsync(app.FreeModelId, payload);
        var done = await chat.CompletedAsync(sent.AssistantMessageId);
        var page = await user.Http.GetStringAsync($"/{sent.ConversationId}");

        foreach (var html in new[] { done.Html, ReplyHtml(page) })
        {
            Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("href=\"javascript", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<a href=\"https://evil.example\" onclick", html, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("&lt;script&gt;", html);
            Assert.Contains("href=\"https://example.com\" rel=\"noopener noreferrer nofollow\"", html);
        }
    }

    static string ReplyHtml(string page)
    {
        var start = page.IndexOf("data-testid=\"message-assistant\"", StringComparison.Ordinal);
        Assert.True(start > 0, "no reply on the page");
        return page[start..page.IndexOf("</article>", start, StringComparison.Ordinal)];
    }

    [Fact]
    public async Task Bad_input_gets_clear_errors_and_creates_nothing()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();

        var empty = await Assert.ThrowsAsync<HubException>(() => chat.SendAsync(app.FreeModelId, "   "));
        Assert.Contains("empty", empty.Message);
        var tooLong = await Assert.ThrowsAsync<HubException>(() => chat.SendAsync(app.FreeModelId, new string('a', 100_001)));
        Assert.Contains("100,001 characters long; the limit is 100,000", tooLong.Message);
        var locked = await Assert.ThrowsAsync<HubException>(() => chat.SendAsync(app.ProModelId, "hi"));
        Assert.Contains("needs the pro tier", locked.Message);
        var hidden = await Assert.ThrowsAsync<HubException>(() => chat.SendAsync(app.HiddenModelId, "hi"));
        Assert.Contains("not available", hidden.Message);
        var unknown = await Assert.ThrowsAsync<HubException>(() => chat.SendAsync(app.FreeModelId, "hi", Guid.NewGuid()));
        Assert.Contains("does not exist", unknown.Message);
        Assert.Equal(0, await app.QueryAsync(db => db.Conversations.CountAsync(c => c.UserId == user.UserId)));

        // A deleted conversation is gone for the hub and the page alike; undo brings it back.
        var sent = await chat.SendAsync(app.FreeModelId, "short mock:tokens=3");
        await chat.CompletedAsync(sent.AssistantMessageId);
        await chat.Hub.InvokeAsync(nameof(ChatHub.Delete), sent.ConversationId);
        await Assert.ThrowsAsync<HubException>(() => chat.SendAsync(app.FreeModelId, "again", sent.ConversationId));
        Assert.Equal(HttpStatusCode.NotFound, (await user.Http.GetAsync($"/{sent.ConversationId}")).StatusCode);
        await chat.Hub.InvokeAsync<ConversationSummary>(nameof(ChatHub.Restore), sent.ConversationId);
        Assert.Equal(HttpStatusCode.OK, (await user.Http.GetAsync($"/{sent.ConversationId}")).StatusCode);
    }

    [Fact]
    public async Task An_upstream_failure_mid_stream_keeps_the_partial_text_and_says_what_happened()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var sent = await chat.SendAsync(app.FreeModelId, "break please mock:fault=drop_after:5 mock:tokens=50");
        var done = await chat.CompletedAsync(sent.AssistantMessageId);

        Assert.Equal("interrupted", done.Status);
        Assert.False(string.IsNullOrWhiteSpace(done.Error));
        var saved = await app.MessageAsync(sent.AssistantMessageId);
        Assert.Equal(MessageStatus.Interrupted, saved.Status);
        Assert.Equal(chat.DeltasOf(sent.AssistantMessageId).Count, saved.Seq);
        Assert.Equal(string.Concat(chat.DeltasOf(sent.AssistantMessageId).Select(d => d.Text)), saved.Content);
        Assert.Equal(done.Error, saved.Error);
        var reply = ReplyHtml(await user.Http.GetStringAsync($"/{sent.ConversationId}"));
        Assert.Contains("data-testid=\"message-state\">Interrupted</p>", reply);

        // Retry is a regenerate: a fresh reply beside the interrupted one, which is kept as an earlier version.
        var retry = await chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Regenerate), sent.ConversationId, app.FreeModelId);
        Assert.Equal("interrupted", (await chat.CompletedAsync(retry.AssistantMessageId)).Status); // same magic word, same fault
        var versions = await app.QueryAsync(db => db.Messages.Where(m => m.ParentId == sent.UserMessageId).OrderBy(m => m.Id).Select(m => m.Id).ToListAsync());
        Assert.Equal([sent.AssistantMessageId, retry.AssistantMessageId], versions);
    }

    [Fact]
    public async Task A_pro_user_may_use_the_pro_model()
    {
        var user = await app.UserAsync(Tier.Pro);
        await using var chat = await user.ConnectAsync();
        var sent = await chat.SendAsync(app.ProModelId, "pro question mock:tokens=5");
        Assert.Equal("complete", (await chat.CompletedAsync(sent.AssistantMessageId)).Status);
    }

    [Fact]
    public async Task Regenerate_and_edit_add_versions_and_delete_nothing()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var sent = await chat.SendAsync(app.FreeModelId, "first mock:tokens=4");
        await chat.CompletedAsync(sent.AssistantMessageId);

        var again = await chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Regenerate), sent.ConversationId, app.FreeModelId);
        Assert.Equal(sent.UserMessageId, again.UserMessageId);
        await chat.CompletedAsync(again.AssistantMessageId);

        var edited = await chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Edit), sent.ConversationId, sent.UserMessageId, "changed mock:reply=Edited!", app.FreeModelId);
        await chat.CompletedAsync(edited.AssistantMessageId);
        Assert.NotEqual(sent.UserMessageId, edited.UserMessageId);
        var messages = await app.QueryAsync(db => db.Messages.AsNoTracking().Where(m => m.ConversationId == sent.ConversationId).OrderBy(m => m.Id).ToListAsync());
        // Question 1 with two reply versions, and its edit (a sibling root) with its own reply.
        Assert.Equal([(sent.UserMessageId, (long?)null), (sent.AssistantMessageId, sent.UserMessageId), (again.AssistantMessageId, sent.UserMessageId),
            (edited.UserMessageId, null), (edited.AssistantMessageId, edited.UserMessageId)], messages.Select(m => (m.Id, m.ParentId)));
        Assert.Equal("first mock:tokens=4", messages[0].Content);
        Assert.Equal("changed mock:reply=Edited!", messages[3].Content);
        Assert.Equal("Edited!", messages[4].Content);
        // The page shows the newest branch: the edit and its reply, not the original.
        var page = await user.Http.GetStringAsync($"/{sent.ConversationId}");
        Assert.Contains($"data-message-id=\"{edited.AssistantMessageId}\"", page);
        Assert.DoesNotContain($"data-message-id=\"{sent.AssistantMessageId}\"", page);
    }

    [Fact]
    public async Task Conversations_are_listed_newest_first_searched_by_content_and_renamed()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var a = await chat.SendAsync(app.FreeModelId, "about zebras mock:reply=Stripes are unique");
        await chat.CompletedAsync(a.AssistantMessageId);
        var b = await chat.SendAsync(app.FreeModelId, "about lions mock:tokens=3");
        await chat.CompletedAsync(b.AssistantMessageId);

        var all = await chat.Hub.InvokeAsync<ConversationPage>(nameof(ChatHub.ListConversations), null, null);
        Assert.Equal([b.ConversationId, a.ConversationId], all.Items.Select(c => c.Id));
        var found = await chat.Hub.InvokeAsync<ConversationPage>(nameof(ChatHub.ListConversations), "STRIPES", null);
        Assert.Equal([a.ConversationId], found.Items.Select(c => c.Id));

        var renamed = await chat.Hub.InvokeAsync<ConversationSummary>(nameof(ChatHub.Rename), a.ConversationId, "Zebra facts");
        Assert.Equal("Zebra facts", renamed.Title);
        Assert.Contains("Zebra facts", await user.Http.GetStringAsync("/"));
    }

    [Fact]
    public async Task Replies_left_streaming_by_a_dead_process_are_marked_interrupted_at_start_up()
    {
        var user = await app.UserAsync();
        var messageId = await app.QueryAsync(async db =>
        {
            var conversation = new Conversation { Id = Guid.NewGuid(), UserId = user.UserId, Title = "old" };
            var message = new Message { Conversation = conversation, Role = MessageRole.Assistant, Status = MessageStatus.Streaming, Content = "half a" };
            db.Messages.Add(message);
            await db.SaveChangesAsync();
            return message.Id;
        });
        var byGoneNode = await app.QueryAsync(async db =>
        {
            var conversation = new Conversation { Id = Guid.NewGuid(), UserId = user.UserId, Title = "older" };
            var message = new Message { Conversation = conversation, Role = MessageRole.Assistant, Status = MessageStatus.Streaming, Content = "half b", OwnerNode = "gone-1-abcdef" };
            db.Messages.Add(message);
            await db.SaveChangesAsync();
            return message.Id;
        });

        // No owner node (or one whose lease is gone): the sweep that runs at start-up (and every few seconds) takes it.
        await app.Services.GetRequiredService<GenerationSweeper>().SweepAsync(CancellationToken.None);

        var message = await app.MessageAsync(messageId);
        Assert.Equal(MessageStatus.Interrupted, message.Status);
        Assert.Equal("half a", message.Content);
        var gone = await app.MessageAsync(byGoneNode);
        Assert.Equal(MessageStatus.Interrupted, gone.Status);
        Assert.Equal("half b", gone.Content);
    }

    [Fact]
    public async Task A_reply_stopped_before_its_first_token_is_labelled_so_and_not_shown_as_an_empty_block()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var sent = await chat.SendAsync(app.FreeModelId, "slow start mock:delay=20000 mock:tokens=5");
        Assert.True(await chat.Hub.InvokeAsync<bool>(nameof(ChatHub.Stop), sent.ConversationId));
        var done = await chat.CompletedAsync(sent.AssistantMessageId);

        Assert.Equal("stopped", done.Status);
        Assert.Equal("", done.Content);
        Assert.Empty(chat.DeltasOf(sent.AssistantMessageId));
        var saved = await app.MessageAsync(sent.AssistantMessageId);
        Assert.Equal(MessageStatus.Stopped, saved.Status);
        Assert.Equal("", saved.Content);
        var reply = ReplyHtml(await user.Http.GetStringAsync($"/{sent.ConversationId}"));
        Assert.Contains(">Stopped before any reply</p>", reply);
    }

    [Fact]
    public async Task A_stopped_reply_with_text_is_labelled_stopped_on_the_page()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var sent = await chat.SendAsync(app.FreeModelId, "go on mock:tokens=500 mock:tps=25");
        await chat.WaitForDeltasAsync(sent.AssistantMessageId, 2);
        await chat.Hub.InvokeAsync<bool>(nameof(ChatHub.Stop), sent.ConversationId);
        await chat.CompletedAsync(sent.AssistantMessageId);

        var reply = ReplyHtml(await user.Http.GetStringAsync($"/{sent.ConversationId}"));
        Assert.Contains("data-testid=\"message-state\">Stopped</p>", reply);
    }

    [Fact]
    public async Task The_reply_carries_its_markdown_source_for_copy_live_and_on_the_page()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        const string markdown = "# Title\n\nSome **bold** & `code` <b>\n\n```python\nprint(1)\n```";
        var sent = await chat.SendAsync(app.FreeModelId, "mock:reply=" + markdown);
        var done = await chat.CompletedAsync(sent.AssistantMessageId);

        Assert.Equal(markdown, done.Content);
        Assert.Contains("<h1", done.Html);
        var page = await user.Http.GetStringAsync($"/{sent.ConversationId}");
        var source = System.Text.RegularExpressions.Regex.Match(ReplyHtml(page), "data-source=\"([^\"]*)\"").Groups[1].Value;
        Assert.Equal(markdown, WebUtility.HtmlDecode(source));
    }

    [Fact]
    public async Task Regenerate_and_edit_while_a_reply_streams_are_refused_clearly_and_change_nothing()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var sent = await chat.SendAsync(app.FreeModelId, "long one mock:tokens=400 mock:tps=25");
        await chat.WaitForDeltasAsync(sent.AssistantMessageId, 2);

        var regenerate = await Assert.ThrowsAsync<HubException>(() =>
            chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Regenerate), sent.ConversationId, app.FreeModelId));
        Assert.Contains("still being written", regenerate.Message);
        var edit = await Assert.ThrowsAsync<HubException>(() =>
            chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Edit), sent.ConversationId, sent.UserMessageId, "other", app.FreeModelId));
        Assert.Contains("still being written", edit.Message);

        var messages = await app.QueryAsync(db => db.Messages.AsNoTracking().Where(m => m.ConversationId == sent.ConversationId).OrderBy(m => m.Id).ToListAsync());
        Assert.Equal([sent.UserMessageId, sent.AssistantMessageId], messages.Select(m => m.Id));
        Assert.Equal("long one mock:tokens=400 mock:tps=25", messages[0].Content);
        Assert.Equal(MessageStatus.Streaming, messages[1].Status);
        await chat.Hub.InvokeAsync<bool>(nameof(ChatHub.Stop), sent.ConversationId);
        await chat.CompletedAsync(sent.AssistantMessageId);
    }

    [Fact]
    public async Task Editing_the_first_question_retitles_an_automatic_title_but_never_a_renamed_one()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var sent = await chat.SendAsync(app.FreeModelId, "What is a zebra? mock:tokens=3");
        await chat.CompletedAsync(sent.AssistantMessageId);
        Assert.Equal("What is a zebra? mock:tokens=3", await TitleAsync(sent.ConversationId));

        var edited = await chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Edit), sent.ConversationId, sent.UserMessageId, "What is a lion? mock:tokens=3", app.FreeModelId);
        Assert.Equal("What is a lion? mock:tokens=3", await TitleAsync(sent.ConversationId));
        await chat.CompletedAsync(edited.AssistantMessageId);
        Assert.Contains(chat.Changes, c => c.Id == sent.ConversationId && c.Title == "What is a lion? mock:tokens=3");

        await chat.Hub.InvokeAsync<ConversationSummary>(nameof(ChatHub.Rename), sent.ConversationId, "Big cats");
        var again = await chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Edit), sent.ConversationId, sent.UserMessageId, "What is a tiger? mock:tokens=3", app.FreeModelId);
        await chat.CompletedAsync(again.AssistantMessageId);
        Assert.Equal("Big cats", await TitleAsync(sent.ConversationId));
    }

    Task<string> TitleAsync(Guid conversationId) =>
        app.QueryAsync(db => db.Conversations.AsNoTracking().Where(c => c.Id == conversationId).Select(c => c.Title).SingleAsync());

    [Fact]
    public async Task The_hub_is_never_compressed_while_pages_are()
    {
        var user = await app.UserAsync();
        using var page = new HttpRequestMessage(HttpMethod.Get, "/");
        page.Headers.AcceptEncoding.ParseAdd("br");
        using var pageResponse = await user.Http.SendAsync(page);
        Assert.Equal("br", pageResponse.Content.Headers.ContentEncoding.Single());

        using var negotiate = new HttpRequestMessage(HttpMethod.Post, ChatExtensions.HubPath + "/negotiate?negotiateVersion=1");
        negotiate.Headers.AcceptEncoding.ParseAdd("br");
        using var hubResponse = await user.Http.SendAsync(negotiate);
        Assert.Equal(HttpStatusCode.OK, hubResponse.StatusCode);
        Assert.Empty(hubResponse.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task Server_sent_events_deliver_tokens_one_by_one_before_the_reply_ends()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync(HttpTransportType.ServerSentEvents);
        var sent = await chat.SendAsync(app.FreeModelId, "stream me mock:tokens=40 mock:tps=20");
        await chat.WaitForDeltasAsync(sent.AssistantMessageId, 3);

        // Three tokens on screen while thirty-seven are still to come: nothing held them back in a buffer.
        Assert.False(chat.HasCompleted(sent.AssistantMessageId));
        Assert.Equal("complete", (await chat.CompletedAsync(sent.AssistantMessageId)).Status);
        var saved = await app.FinishedAsync(sent.AssistantMessageId);
        Assert.Equal(saved.Content, string.Concat(chat.DeltasOf(sent.AssistantMessageId).Select(d => d.Text)));
        Assert.Equal(40, saved.CompletionTokens);
    }
}
