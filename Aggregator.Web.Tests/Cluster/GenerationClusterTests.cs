using Aggregator.Web.Cluster;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>Generations owned by the cluster, not a node: two nodes in this process on one database and one Redis.</summary>
public sealed class GenerationClusterTests(GenerationClusterApp app) : IClassFixture<GenerationClusterApp>
{
    [Fact]
    public async Task Stop_sent_to_the_node_that_does_not_own_the_reply_stops_it_and_keeps_the_partial_text()
    {
        var user = await app.UserAsync();
        await using var onA = await GenerationClusterApp.ConnectAsync(user, app);
        await using var onB = await GenerationClusterApp.ConnectAsync(user, app.B);

        var sent = await onA.SendAsync(app.FreeModelId, "long one mock:tokens=500 mock:tps=25");
        await onA.WaitForDeltasAsync(sent.AssistantMessageId, 3);
        Assert.True(await onB.Hub.InvokeAsync<bool>(nameof(ChatHub.Stop), sent.ConversationId));
        var done = await onA.CompletedAsync(sent.AssistantMessageId);

        Assert.Equal("stopped", done.Status);
        var saved = await app.MessageAsync(sent.AssistantMessageId);
        Assert.Equal(MessageStatus.Stopped, saved.Status);
        Assert.NotEmpty(saved.Content);
        Assert.True(saved.CompletionTokens is null or < 500);
        Assert.Equal(string.Concat(onA.DeltasOf(sent.AssistantMessageId).Select(d => d.Text)), saved.Content);
        // Nothing is streaming any more, on either node.
        Assert.False(await onB.Hub.InvokeAsync<bool>(nameof(ChatHub.Stop), sent.ConversationId));
    }

    [Fact]
    public async Task Deleting_a_conversation_on_the_other_node_stops_its_reply()
    {
        var user = await app.UserAsync();
        await using var onA = await GenerationClusterApp.ConnectAsync(user, app);
        await using var onB = await GenerationClusterApp.ConnectAsync(user, app.B);
        var sent = await onA.SendAsync(app.FreeModelId, "long one mock:tokens=500 mock:tps=25");
        await onA.WaitForDeltasAsync(sent.AssistantMessageId, 2);

        await onB.Hub.InvokeAsync(nameof(ChatHub.Delete), sent.ConversationId);

        Assert.Equal("stopped", (await onA.CompletedAsync(sent.AssistantMessageId)).Status);
        Assert.Equal(MessageStatus.Stopped, (await app.MessageAsync(sent.AssistantMessageId)).Status);
    }

    [Fact]
    public async Task Resume_on_the_other_node_returns_exactly_the_missing_pushes_in_order_then_the_saved_text_when_the_copy_is_gone()
    {
        var user = await app.UserAsync();
        var onA = await GenerationClusterApp.ConnectAsync(user, app);
        var sent = await onA.SendAsync(app.FreeModelId, "resume me mock:tokens=300 mock:tps=40");
        await onA.WaitForDeltasAsync(sent.AssistantMessageId, 3);
        await onA.DisposeAsync(); // the page is reloaded and lands on the other node
        var before = onA.DeltasOf(sent.AssistantMessageId);
        var lastSeq = before.Max(d => d.Seq);
        var generation = app.Services.GetRequiredService<GenerationManager>().Find(sent.AssistantMessageId, user.UserId)!;
        await Eventually.Until(() => generation.Snapshot().Seq >= lastSeq + 3, "pushes made while nobody listens");

        await using var onB = await GenerationClusterApp.ConnectAsync(user, app.B);
        var resumed = await onB.Hub.InvokeAsync<ResumeResult>(nameof(ChatHub.Resume), sent.AssistantMessageId, lastSeq);
        Assert.True(resumed.Live);
        Assert.Null(resumed.Content);
        Assert.True(resumed.Deltas.Count >= 3, $"{resumed.Deltas.Count} pushes");
        Assert.Equal(Enumerable.Range(lastSeq + 1, resumed.Deltas.Count), resumed.Deltas.Select(d => d.Seq));
        // The very pushes the owner made (its own buffer is the reference).
        var owners = generation.Resume(lastSeq).Deltas.Take(resumed.Deltas.Count);
        Assert.Equal(owners.Select(d => d.Text), resumed.Deltas.Select(d => d.Text));

        // The Redis copy gone (trimmed, expired, Redis lost it): the saved text, with its own sequence number.
        var saved = await Eventually.Until(() => app.MessageAsync(sent.AssistantMessageId), m => m.Seq > 0, "a periodic save");
        await app.Services.GetRequiredService<RedisConnection>().Database.KeyDeleteAsync(app.Services.GetRequiredService<RedisConnection>().Key("gen:" + sent.AssistantMessageId));
        var fallback = await onB.Hub.InvokeAsync<ResumeResult>(nameof(ChatHub.Resume), sent.AssistantMessageId, 0);
        Assert.True(fallback.Live);
        Assert.NotNull(fallback.Content);
        Assert.True(fallback.Seq >= saved.Seq);
        Assert.StartsWith(saved.Content, fallback.Content);

        // Later pushes reach the other node's connection through the backplane; together they are the whole reply.
        var done = await onB.CompletedAsync(sent.AssistantMessageId);
        var all = before.Concat(resumed.Deltas).Concat(onB.DeltasOf(sent.AssistantMessageId))
            .GroupBy(d => d.Seq).Select(g => g.First()).OrderBy(d => d.Seq).ToList();
        var final = await app.MessageAsync(sent.AssistantMessageId);
        Assert.Equal(final.Content, done.Content);
        Assert.StartsWith(string.Concat(all.TakeWhile((d, i) => d.Seq == i + 1).Select(d => d.Text)), final.Content);
    }

    [Fact]
    public async Task Concurrent_sends_on_two_nodes_to_one_conversation_start_one_reply_and_refuse_the_other_as_busy()
    {
        var user = await app.UserAsync();
        await using var onA = await GenerationClusterApp.ConnectAsync(user, app);
        await using var onB = await GenerationClusterApp.ConnectAsync(user, app.B);
        var first = await onA.SendAsync(app.FreeModelId, "short mock:tokens=3");
        await onA.CompletedAsync(first.AssistantMessageId);
        var conversation = first.ConversationId;

        const int rounds = 4;
        for (var round = 0; round < rounds; round++)
        {
            var sends = new[] { onA, onB }.Select(c => Attempt(c.SendAsync(app.FreeModelId, $"race {round} mock:tokens=400 mock:tps=25", conversation))).ToList();
            var outcomes = await Task.WhenAll(sends);
            Assert.Single(outcomes, o => o.Sent is not null);
            var refused = Assert.Single(outcomes, o => o.Error is not null).Error!;
            Assert.Contains("still being written", refused.Message);
            var winner = outcomes.Single(o => o.Sent is not null).Sent!;
            Assert.True(await onA.Hub.InvokeAsync<bool>(nameof(ChatHub.Stop), conversation));
            await app.FinishedAsync(winner.AssistantMessageId);
        }

        // One question and one reply per round that started: the refused send left nothing behind.
        var messages = await app.QueryAsync(db => db.Messages.AsNoTracking().Where(m => m.ConversationId == conversation).ToListAsync());
        Assert.Equal(1 + rounds, messages.Count(m => m.Role == MessageRole.User));
        Assert.Equal(1 + rounds, messages.Count(m => m.Role == MessageRole.Assistant));
        Assert.DoesNotContain(messages, m => m.Status == MessageStatus.Streaming);

        static async Task<(SendResult? Sent, HubException? Error)> Attempt(Task<SendResult> send)
        {
            try { return (await send, null); }
            catch (HubException ex) { return (null, ex); }
        }
    }

    [Fact]
    public async Task A_node_whose_lease_is_gone_has_its_replies_marked_interrupted_by_a_survivor_within_seconds_with_the_partial_text()
    {
        await using var doomed = new SecondNode(app);
        doomed.StartServer();
        var user = await app.UserAsync();
        await using var onA = await GenerationClusterApp.ConnectAsync(user, app);
        await using var onDoomed = await GenerationClusterApp.ConnectAsync(user, doomed);
        var sent = await onDoomed.SendAsync(app.FreeModelId, "a long one mock:tokens=5000 mock:tps=20");
        var partial = await Eventually.Until(() => app.MessageAsync(sent.AssistantMessageId), m => m.Content.Length > 0, "the owner's periodic save");
        Assert.Equal(doomed.Services.GetRequiredService<NodeIdentity>().Id, partial.OwnerNode);
        // A few sweeps pass while the owner is alive: its reply is left alone.
        await Eventually.Until(() => app.MessageAsync(sent.AssistantMessageId), m => m.Seq > partial.Seq + 20, "more pushes");
        Assert.Equal(MessageStatus.Streaming, (await app.MessageAsync(sent.AssistantMessageId)).Status);

        // The owner stops renewing its lease (as if killed: its replies can no longer finish on it).
        await doomed.Services.GetRequiredService<NodeLeaseHeartbeat>().StopAsync(CancellationToken.None);
        var stoppedAt = DateTime.UtcNow;

        var swept = await Eventually.Until(() => app.MessageAsync(sent.AssistantMessageId), m => m.Status != MessageStatus.Streaming,
            "the survivor's sweep", TimeSpan.FromSeconds(10));
        Assert.True(DateTime.UtcNow - stoppedAt < TimeSpan.FromSeconds(5), "swept within seconds");
        Assert.Equal(MessageStatus.Interrupted, swept.Status);
        Assert.Equal(GenerationSweeper.ServerStopped, swept.Error);
        Assert.True(swept.Content.Length >= partial.Content.Length);
        Assert.StartsWith(partial.Content, swept.Content);
        Assert.Null(swept.OwnerNode);
        // The user's open page on the survivor hears of it.
        Assert.Equal("interrupted", (await onA.CompletedAsync(sent.AssistantMessageId)).Status);
    }

    [Fact]
    public async Task A_restarting_node_leaves_the_other_live_nodes_streaming_reply_alone()
    {
        var user = await app.UserAsync();
        await using var onA = await GenerationClusterApp.ConnectAsync(user, app);
        var sent = await onA.SendAsync(app.FreeModelId, "keep going mock:tokens=120 mock:tps=40");
        await onA.WaitForDeltasAsync(sent.AssistantMessageId, 3);

        // Another node (re)starts: its start-up sweep runs before it serves.
        await using (var restarted = new SecondNode(app))
        {
            restarted.StartServer();
            Assert.Equal(0, await restarted.Services.GetRequiredService<GenerationSweeper>().SweepAsync(CancellationToken.None));
            var meanwhile = await app.MessageAsync(sent.AssistantMessageId);
            Assert.Equal(MessageStatus.Streaming, meanwhile.Status);
            Assert.Null(meanwhile.Error);
        }

        var done = await onA.CompletedAsync(sent.AssistantMessageId);
        Assert.Equal("complete", done.Status);
        var saved = await app.MessageAsync(sent.AssistantMessageId);
        Assert.Equal(MessageStatus.Complete, saved.Status);
        Assert.Null(saved.Error);
    }

    [Fact]
    public async Task Fast_tokens_are_coalesced_into_at_most_one_push_per_window_with_exact_contiguous_sequence_numbers()
    {
        var coalesceMs = app.Services.GetRequiredService<IOptions<ChatOptions>>().Value.CoalesceMs;
        var user = await app.UserAsync();
        await using var chat = await GenerationClusterApp.ConnectAsync(user, app);
        var sent = await chat.SendAsync(app.FreeModelId, "fast mock:tokens=800 mock:tps=400");
        var done = await chat.CompletedAsync(sent.AssistantMessageId);

        var deltas = chat.DeltasOf(sent.AssistantMessageId).OrderBy(d => d.Seq).ToList();
        Assert.Equal(Enumerable.Range(1, deltas.Count), deltas.Select(d => d.Seq));
        var saved = await app.MessageAsync(sent.AssistantMessageId);
        Assert.Equal(800, saved.CompletionTokens);
        Assert.Equal(saved.Content, string.Concat(deltas.Select(d => d.Text)));
        Assert.Equal(deltas.Count, saved.Seq);
        Assert.Equal(done.Seq, saved.Seq);
        Assert.True(saved.DurationMs > 1000, $"upstream took {saved.DurationMs} ms"); // long enough to measure a rate

        // Server side, in every one-second window: at most 1000 / CoalesceMs + 1 pushes.
        var times = app.Pushes.TimesOf(sent.AssistantMessageId);
        Assert.Equal(deltas.Count, times.Count);
        var busiest = times.Max(t => times.Count(u => u >= t && u < t + TimeSpan.FromSeconds(1)));
        Assert.True(busiest <= 1000 / coalesceMs + 1, $"{busiest} pushes in one second; {deltas.Count} pushes for 800 tokens");
        // One Redis stream entry per push, not per token.
        var redis = app.Services.GetRequiredService<RedisConnection>();
        Assert.Equal(deltas.Count, await redis.Database.StreamLengthAsync(redis.Key("gen:" + sent.AssistantMessageId)));
    }

    [Fact]
    public async Task A_slow_pusher_never_holds_back_the_upstream_reader()
    {
        var user = await app.UserAsync();
        await using var chat = await GenerationClusterApp.ConnectAsync(user, app);
        app.Pushes.DeltaDelay = TimeSpan.FromMilliseconds(300);
        try
        {
            // 100 tokens at 100 per second: about one second upstream; 100 sends of 300 ms each would take 30.
            var sent = await chat.SendAsync(app.FreeModelId, "slow clients mock:tokens=100 mock:tps=100");
            var done = await chat.CompletedAsync(sent.AssistantMessageId);

            var saved = await app.MessageAsync(sent.AssistantMessageId);
            Assert.Equal(MessageStatus.Complete, saved.Status);
            Assert.True(saved.DurationMs < 4000, $"the upstream read took {saved.DurationMs} ms");
            var deltas = chat.DeltasOf(sent.AssistantMessageId).OrderBy(d => d.Seq).ToList();
            Assert.Equal(Enumerable.Range(1, deltas.Count), deltas.Select(d => d.Seq));
            Assert.Equal(saved.Content, string.Concat(deltas.Select(d => d.Text)));
            Assert.Equal(saved.Content, done.Content);
            Assert.InRange(deltas.Count, 1, 30);
        }
        finally
        {
            app.Pushes.DeltaDelay = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task A_second_streaming_reply_in_one_conversation_is_recognised_as_busy_on_postgresql_and_sqlite()
    {
        await app.QueryAsync(async db => { await AssertRecognisedAsync(db); return 0; });

        var file = Path.Combine(Path.GetTempPath(), $"aggregator-busy-{Guid.NewGuid():N}.db");
        try
        {
            await using var sqlite = new SqliteDbContext(new DbContextOptionsBuilder<SqliteDbContext>().UseSqlite($"Data Source={file};Pooling=False").Options);
            await sqlite.Database.MigrateAsync();
            await AssertRecognisedAsync(sqlite);
        }
        finally
        {
            File.Delete(file);
        }

        static async Task AssertRecognisedAsync(AppDbContext db)
        {
            var user = new AppUser { UserName = $"busy-{Guid.NewGuid():N}", Email = "busy@example.com" };
            var conversation = new Conversation { Id = Guid.NewGuid(), UserId = user.Id, Title = "busy" };
            db.Users.Add(user);
            db.Conversations.Add(conversation);
            db.Messages.Add(new Message { ConversationId = conversation.Id, Role = MessageRole.Assistant, Status = MessageStatus.Streaming, OwnerNode = "a" });
            await db.SaveChangesAsync();

            db.Messages.Add(new Message { ConversationId = conversation.Id, Role = MessageRole.Assistant, Status = MessageStatus.Streaming, OwnerNode = "b" });
            var busy = await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
            Assert.True(OneStreamingReply.IsViolatedBy(busy));
            db.ChangeTracker.Clear();

            // Another unique violation is not "busy".
            db.Users.Add(new AppUser { Id = user.Id, UserName = "other" });
            var other = await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
            Assert.False(OneStreamingReply.IsViolatedBy(other));
            db.ChangeTracker.Clear();
        }
    }
}
