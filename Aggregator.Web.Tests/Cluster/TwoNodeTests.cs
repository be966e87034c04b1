using System.Net;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>
/// Two app processes behind nginx (deploy/), as production runs them: every request goes through the load
/// balancer; a test pins a client to a node with the agg_node cookie and checks X-Aggregator-Node.
/// </summary>
[Collection(TwoNodeCollection.Name)]
public sealed class TwoNodeTests(TwoNodeCluster cluster) : IClassFixture<TwoNodeCluster>
{
    const string LongReply = "mock:tps=20 mock:tokens=120 tell me a long story";

    [Fact]
    public async Task Load_balancer_pins_by_cookie_and_spreads_the_rest_over_both_nodes()
    {
        var user = await cluster.UserAsync();
        foreach (var node in new[] { "a", "b" })
        {
            var pinned = await user.On(node).GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, pinned.StatusCode);
            Assert.Equal(node, ClusterUser.ServedBy(pinned));
        }
        user.Pin(null);
        var seen = new HashSet<string?>();
        for (var i = 0; i < 10 && seen.Count < 2; i++) seen.Add(ClusterUser.ServedBy(await user.Http.GetAsync("/Account/Login")));
        Assert.Equal(["a", "b"], seen.Order());
    }

    [Fact]
    public async Task Reply_started_on_one_node_resumes_on_the_other_by_sequence_number()
    {
        var user = await cluster.UserAsync("a");
        var first = await user.ConnectAsync("a");
        Assert.Equal("a", first.Node);
        var sent = await first.Chat.SendAsync(cluster.FreeModelId, LongReply);
        var id = sent.AssistantMessageId;
        await first.Chat.WaitForDeltasAsync(id, 5);
        await first.DisposeAsync(); // the browser went away mid-reply
        var before = first.Chat.DeltasOf(id);
        var lastSeq = before.Max(d => d.Seq);

        await using var second = await user.ConnectAsync("b");
        Assert.Equal("b", second.Node);
        var resumed = await second.Hub.InvokeAsync<ResumeResult>(nameof(ChatHub.Resume), id, lastSeq);
        Assert.True(resumed.Live, "the reply is still being written (on node a): node b must resume it live from its sequence number");
        var completed = await second.Chat.CompletedAsync(id);

        // The client merges by sequence number: together, every delta exactly once, in order, nothing missing.
        var received = before.Concat(resumed.Deltas).Concat(second.Chat.DeltasOf(id)).GroupBy(d => d.Seq).OrderBy(g => g.Key).ToList();
        foreach (var copies in received) Assert.Single(copies.Select(d => d.Text).Distinct());
        Assert.Equal(Enumerable.Range(1, completed.Seq), received.Select(g => g.Key));
        var text = string.Concat(received.Select(g => g.First().Text));
        var stored = await cluster.FinishedAsync(id);
        Assert.Equal(MessageStatus.Complete, stored.Status);
        Assert.Equal(stored.Content, text);
        Assert.Equal(completed.Content, text);
    }

    [Fact]
    public async Task Stop_sent_to_the_node_that_does_not_own_the_reply_stops_it()
    {
        var user = await cluster.UserAsync();
        await using var owner = await user.ConnectAsync("a");
        await using var other = await user.ConnectAsync("b");
        Assert.Equal(("a", "b"), (owner.Node, other.Node));
        var sent = await owner.Chat.SendAsync(cluster.FreeModelId, "mock:tps=20 mock:tokens=600 do not finish");
        await owner.Chat.WaitForDeltasAsync(sent.AssistantMessageId, 3);

        Assert.True(await other.Hub.InvokeAsync<bool>(nameof(ChatHub.Stop), sent.ConversationId), "Stop on node b found no reply");

        var stopped = await cluster.FinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(5));
        Assert.Equal(MessageStatus.Stopped, stopped.Status);
        Assert.False(string.IsNullOrEmpty(stopped.Content));
        Assert.Equal("stopped", (await owner.Chat.CompletedAsync(sent.AssistantMessageId)).Status);
    }

    [Fact]
    public async Task Admin_change_on_node_a_is_in_node_b_catalogue_within_a_second()
    {
        var admin = await cluster.AdminAsync();
        var user = await cluster.UserAsync("b");
        Assert.Contains("Spare Model", await CatalogueOnBAsync(user));

        var hidden = await admin.On("a").PostFormAsync("/Admin/Models", new Dictionary<string, string>
        {
            ["id"] = cluster.SpareModelId.ToString(), ["displayName"] = "Spare Model", ["tier"] = "Free", ["hidden"] = "true",
        }, "/Admin/Models?handler=Edit");
        Assert.Equal(HttpStatusCode.Redirect, hidden.StatusCode);
        Assert.Equal("a", ClusterUser.ServedBy(hidden));

        await Eventually.Until(() => CatalogueOnBAsync(user), json => !json.Contains("Spare Model"),
            "the hidden model to leave node b's catalogue", TimeSpan.FromSeconds(1));
    }

    static async Task<string> CatalogueOnBAsync(ClusterUser user)
    {
        var response = await user.On("b").GetAsync("/api/catalog");
        Assert.Equal("b", ClusterUser.ServedBy(response));
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Tier_downgrade_on_node_a_is_refused_on_the_users_open_hub_connection_on_node_b()
    {
        var admin = await cluster.AdminAsync();
        var user = await cluster.UserAsync("b");
        await SetTierAsync(admin, "b", user, "Pro");
        await using var hub = await user.ConnectAsync("b");
        Assert.Equal("b", hub.Node);
        var pro = await hub.Chat.SendAsync(cluster.ProModelId, "mock:tokens=3 as a pro");
        await hub.Chat.CompletedAsync(pro.AssistantMessageId);

        await SetTierAsync(admin, "a", user, "Free");

        // Within a second the open connection on b meets the new tier (each accepted try is a new conversation).
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(1);
        while (true)
        {
            try
            {
                var accepted = await hub.Chat.SendAsync(cluster.ProModelId, "mock:tokens=1 still pro?");
                await hub.Chat.CompletedAsync(accepted.AssistantMessageId);
                Assert.True(DateTime.UtcNow < until, "node b still lets a downgraded user use a pro model");
            }
            catch (HubException ex)
            {
                Assert.Contains("needs the pro tier", ex.Message);
                return;
            }
        }
    }

    static async Task SetTierAsync(ClusterUser admin, string node, ClusterUser user, string tier)
    {
        var response = await admin.On(node).PostFormAsync("/Admin/Users", new Dictionary<string, string> { ["id"] = user.UserId, ["tier"] = tier },
            "/Admin/Users?handler=Tier");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(node, ClusterUser.ServedBy(response));
    }

    [Fact]
    public async Task Two_concurrent_syncs_on_both_nodes_run_once()
    {
        var admin = await cluster.AdminAsync();
        int ModelListFetches() => cluster.Mock.State.Received.Count(r => r.Method == "GET" && r.Path.EndsWith("/models", StringComparison.Ordinal));
        var fetchesBefore = ModelListFetches();
        var runsBefore = await SyncRunsAsync();
        cluster.Mock.State.SetKeyFault(cluster.MockKey, "slow:1500"); // a sync long enough for the two requests to overlap
        try
        {
            var page = $"/Admin/Providers/Details/{cluster.ProviderId}";
            var answers = await Task.WhenAll(new[] { "a", "b" }.Select(node => admin.On(node).PostFormAsync(page, new Dictionary<string, string>(), page + "?handler=Sync")));
            Assert.All(answers, r => Assert.Equal(HttpStatusCode.Redirect, r.StatusCode));
            Assert.Equal(["a", "b"], answers.Select(ClusterUser.ServedBy).Order());

            var runs = await Eventually.Until(SyncRunsAsync, r => r.Count > runsBefore.Count && r.All(s => s.Status != SyncRunStatus.Running),
                "the sync to finish");
            // Both requests are in: a second run (or fetch) would have started while the first one was fetching.
            Assert.Single(runs.Skip(runsBefore.Count));
            Assert.Equal(1, ModelListFetches() - fetchesBefore);
        }
        finally
        {
            cluster.Mock.State.ClearKeyFault(cluster.MockKey);
        }
    }

    Task<List<SyncRun>> SyncRunsAsync() =>
        cluster.QueryAsync(db => db.SyncRuns.AsNoTracking().Where(r => r.ProviderId == cluster.ProviderId).OrderBy(r => r.Id).ToListAsync());

    [Fact]
    public async Task Quota_is_counted_once_across_both_nodes()
    {
        var user = await cluster.UserAsync();
        await using var onA = await user.ConnectAsync("a");
        await using var onB = await user.ConnectAsync("b");
        var accepted = 0;
        var refused = new List<string>();
        for (var i = 0; i < TwoNodeCluster.FreeMessagesPerDay + 3; i++)
        {
            var chat = (i % 2 == 0 ? onA : onB).Chat;
            try
            {
                var sent = await chat.SendAsync(cluster.FreeModelId, $"mock:tokens=2 question {i}");
                accepted++;
                await chat.CompletedAsync(sent.AssistantMessageId);
            }
            catch (HubException ex)
            {
                refused.Add(ex.Message);
            }
        }
        Assert.Equal(TwoNodeCluster.FreeMessagesPerDay, accepted);
        Assert.Equal(3, refused.Count);
        var questions = await cluster.QueryAsync(db => db.Messages.CountAsync(m => m.Conversation!.UserId == user.UserId && m.Role == MessageRole.User));
        Assert.Equal(TwoNodeCluster.FreeMessagesPerDay, questions); // a refused send writes nothing
    }
}
