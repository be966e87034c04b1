using System.Collections.Concurrent;
using System.Diagnostics;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Tests.Chats; // not ".Chat": the mock tests call a helper named Chat()

/// <summary>
/// What a send costs the database: the conversation and question in one command, the reply (which names the question
/// it follows, numbered by the database) in a second, both in one transaction.
/// </summary>
public sealed class SendRoundTripTests(ChatTestApp app) : IClassFixture<ChatTestApp>, IDisposable
{
    readonly ConcurrentQueue<string> _writes = new();
    IDisposable? _subscription;

    [Fact]
    public async Task A_send_writes_its_conversation_question_and_reply_in_two_round_trips()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        await ListenAsync();

        var first = await chat.SendAsync(app.FreeModelId, "First question mock:tokens=12");
        var firstWrites = await ChatInsertsAsync();
        await chat.CompletedAsync(first.AssistantMessageId);
        var second = await chat.SendAsync(app.FreeModelId, "Second question mock:tokens=12", first.ConversationId);
        var secondWrites = await ChatInsertsAsync();
        await chat.CompletedAsync(second.AssistantMessageId);

        Assert.Equal(2, firstWrites.Count);   // a new conversation: conversation + question, then the reply
        Assert.Contains("\"Conversations\"", firstWrites[0]);
        Assert.Equal(2, secondWrites.Count);  // an existing one: question, then the reply
        // The reply comes after its question, as the history relies on.
        Assert.True(first.AssistantMessageId > first.UserMessageId);
        Assert.True(second.UserMessageId > first.AssistantMessageId && second.AssistantMessageId > second.UserMessageId);
        var rows = await app.QueryAsync(db => db.Messages.AsNoTracking().Where(m => m.ConversationId == first.ConversationId).OrderBy(m => m.Id).ToListAsync());
        Assert.Equal([MessageRole.User, MessageRole.Assistant, MessageRole.User, MessageRole.Assistant], rows.Select(m => m.Role));
        // The second reply was asked with the whole conversation: the mock quotes the last question.
        Assert.Contains("Second question", rows[3].Content);
    }

    [Fact]
    public async Task A_finished_reply_is_shown_from_its_stored_html_not_rendered_again()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var sent = await chat.SendAsync(app.FreeModelId, "Render me mock:tokens=12");
        await chat.CompletedAsync(sent.AssistantMessageId);
        await app.FinishedAsync(sent.AssistantMessageId);
        // What the page shows comes from the column: a marker written there appears instead of a fresh rendering.
        await app.QueryAsync(db => db.Messages.Where(m => m.Id == sent.AssistantMessageId)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Html, "<p>stored-rendering-marker</p>")));
        var page = await user.Http.GetStringAsync($"/{sent.ConversationId}");
        Assert.Contains("stored-rendering-marker", page);
    }

    /// <summary>
    /// Npgsql's own activity per command (or batch) sent to the server: one activity is one round trip. Unlike EF's
    /// diagnostics (which cache "is anyone listening" per context for a moment), a listener here hears the next command.
    /// </summary>
    Task ListenAsync()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                var tags = activity.TagObjects.Select(t => t.Value?.ToString() ?? "").ToList();
                if (tags.Contains(app.DatabaseName)) _writes.Enqueue(string.Join("\n", tags));
            },
        };
        ActivitySource.AddActivityListener(listener);
        _subscription = listener;
        return Task.CompletedTask;
    }

    /// <summary>Commands since the last call that insert conversations or messages (waiting briefly for the listener to hear of them).</summary>
    async Task<List<string>> ChatInsertsAsync()
    {
        var taken = TakeChatInserts();
        for (var i = 0; i < 40 && taken.Count < 2; i++)
        {
            await Task.Delay(50);
            taken.AddRange(TakeChatInserts());
        }
        await Task.Delay(100); // a third command, if there were one, is heard by now
        taken.AddRange(TakeChatInserts());
        return taken;
    }

    List<string> TakeChatInserts()
    {
        var taken = new List<string>();
        while (_writes.TryDequeue(out var sql))
        {
            if (sql.Contains("INSERT INTO \"Messages\"") || sql.Contains("INSERT INTO \"Conversations\"")) taken.Add(sql);
        }
        return taken;
    }

    public void Dispose() => _subscription?.Dispose();
}
