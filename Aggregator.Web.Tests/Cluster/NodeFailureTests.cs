using Aggregator.Web.Data;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>A node killed with SIGKILL mid-reply: a survivor marks its reply interrupted, keeping the partial text.</summary>
[Collection(TwoNodeCollection.Name)]
public sealed class KilledNodeTests(TwoNodeCluster cluster) : IClassFixture<TwoNodeCluster>
{
    [Fact]
    public async Task Reply_of_a_killed_owner_is_marked_interrupted_with_its_partial_text_within_seconds()
    {
        var user = await cluster.UserAsync();
        await using var watcher = await user.ConnectAsync("b"); // sees the owner's deltas through the backplane
        await using var owner = await user.ConnectAsync("a");
        var sent = await owner.Chat.SendAsync(cluster.FreeModelId, "mock:tps=20 mock:tokens=600 a reply that never ends");
        var id = sent.AssistantMessageId;
        await owner.Chat.WaitForDeltasAsync(id, 30); // past the first save of the text so far

        await cluster.Node("a").KillAsync();
        var killedAt = DateTime.UtcNow;
        var received = string.Concat(owner.Chat.DeltasOf(id).OrderBy(d => d.Seq).Select(d => d.Text));

        var interrupted = await cluster.FinishedAsync(id, TimeSpan.FromSeconds(20));
        Assert.Equal(MessageStatus.Interrupted, interrupted.Status);
        Assert.True(DateTime.UtcNow - killedAt < TimeSpan.FromSeconds(20));
        Assert.False(string.IsNullOrEmpty(interrupted.Content), "the partial text was lost");
        Assert.True(received.StartsWith(interrupted.Content, StringComparison.Ordinal) || interrupted.Content.StartsWith(received, StringComparison.Ordinal),
            $"kept text is not the reply's beginning: kept '{interrupted.Content}', received '{received}'");

        // The survivor serves the conversation as it is now: a new question gets an answer.
        var next = await watcher.Chat.SendAsync(cluster.FreeModelId, "mock:tokens=3 are you there?", sent.ConversationId);
        Assert.Equal("complete", (await watcher.Chat.CompletedAsync(next.AssistantMessageId)).Status);
    }
}

/// <summary>Redis stopped mid-run: sign-in and chat keep working on local fallbacks; after Redis returns, both nodes serve again.</summary>
[Collection(TwoNodeCollection.Name)]
public sealed class RedisDownTests(TwoNodeCluster cluster) : IClassFixture<TwoNodeCluster>
{
    [Fact]
    public async Task Chat_keeps_working_while_Redis_is_stopped_and_after_it_returns()
    {
        var user = await cluster.UserAsync("a");
        await cluster.Redis.StopAsync();
        try
        {
            // A sign-in on the other node while Redis is down (antiforgery, cookie, session check).
            var again = await ClusterUser.RegisterAsync(cluster, $"u-{Guid.NewGuid():N}@example.com", "b");
            foreach (var (who, node) in new[] { (user, "a"), (again, "b") })
            {
                await using var hub = await who.ConnectAsync(node);
                Assert.Equal(node, hub.Node);
                var sent = await hub.Chat.SendAsync(cluster.FreeModelId, "mock:tokens=5 without redis").WaitAsync(TimeSpan.FromSeconds(15));
                var done = await hub.Chat.CompletedAsync(sent.AssistantMessageId);
                Assert.Equal("complete", done.Status);
                var stored = await cluster.FinishedAsync(sent.AssistantMessageId);
                Assert.Equal(MessageStatus.Complete, stored.Status);
                Assert.Equal(done.Content, stored.Content);
            }
        }
        finally
        {
            await cluster.Redis.StartAsync();
        }

        // Redis is back: a reply produced on a reaches the user's connection on b again (the backplane converged).
        await ReadyAsync(cluster.Node("a"));
        await ReadyAsync(cluster.Node("b"));
        var later = await cluster.UserAsync("a"); // a fresh day's quota for the tries below
        await using var owner = await later.ConnectAsync("a");
        await using var elsewhere = await later.ConnectAsync("b");
        for (var attempt = 1; ; attempt++)
        {
            var sent = await owner.Chat.SendAsync(cluster.FreeModelId, "mock:tokens=3 redis is back");
            await owner.Chat.CompletedAsync(sent.AssistantMessageId);
            try
            {
                await elsewhere.Chat.CompletedAsync(sent.AssistantMessageId).WaitAsync(TimeSpan.FromSeconds(10)); // the backplane reconnects on its own schedule
                return;
            }
            catch (TimeoutException) when (attempt < TwoNodeCluster.FreeMessagesPerDay) { }
        }
    }

    /// <summary>Waits until the node's readiness says Healthy again (its Redis client has reconnected), up to 30 s.</summary>
    static async Task ReadyAsync(AppProcess node)
    {
        using var http = new HttpClient { BaseAddress = await node.ListeningAsync() };
        var until = DateTime.UtcNow.AddSeconds(30);
        string last = "";
        while (DateTime.UtcNow < until)
        {
            try { last = await http.GetStringAsync("health/ready"); } catch (HttpRequestException ex) { last = ex.Message; }
            if (last.StartsWith('{') && System.Text.Json.JsonDocument.Parse(last).RootElement.GetProperty("status").GetString() == "Healthy") return;
            await Task.Delay(200);
        }
        Assert.Fail($"The node did not become ready after Redis returned: {last}");
    }
}
