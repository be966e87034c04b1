using Aggregator.Web.Cluster;
using Aggregator.Web.Data;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Upstream.Sync;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>Two nodes with a short leader lease (one second), so a lost leader is replaced quickly.</summary>
public sealed class ShortLeaseNodes : TwoChatNodes
{
    protected override ChatTestApp CreateFirstNode() => new ShortLeaseApp();

    sealed class ShortLeaseApp : ChatTestApp
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings) { ["Cluster:LeaderLease"] = "00:00:01" };
    }
}

/// <summary>
/// Jobs the cluster needs once run on one node: a due sync is queued by the leader only; a leader that
/// dies (its lease runs out) is replaced within seconds; two syncs asked on two nodes at once → one runs.
/// </summary>
public sealed class LeaderTests(ShortLeaseNodes nodes) : IClassFixture<ShortLeaseNodes>
{
    ChatTestApp A => nodes.A;
    SecondNode B => nodes.B;
    ILeaderLease LeaseOf(AppFactory node) => node.Services.GetRequiredService<ILeaderLease>();

    [Fact]
    public async Task A_due_sync_is_queued_by_one_node_of_two_and_runs_once()
    {
        var (provider, _) = await SeedSyncableProviderAsync("due", syncIntervalMinutes: 60);
        await Eventually.Until(() => LeaseOf(A).IsLeader ^ LeaseOf(B).IsLeader, "exactly one leader", TimeSpan.FromSeconds(10));

        var queuedOnA = await A.Services.GetRequiredService<SyncScheduler>().QueueDueProvidersAsync(CancellationToken.None);
        var queuedOnB = await B.Services.GetRequiredService<SyncScheduler>().QueueDueProvidersAsync(CancellationToken.None);

        Assert.True(queuedOnA == 0 || queuedOnB == 0, $"both nodes queued due syncs (a: {queuedOnA}, b: {queuedOnB})");
        Assert.True(queuedOnA + queuedOnB > 0, "the leader queued nothing");
        var runs = await Eventually.Until(() => A.QueryAsync(db => db.SyncRuns.AsNoTracking().Where(r => r.ProviderId == provider.Id).ToListAsync()),
            r => r.Count == 1 && r[0].Status != SyncRunStatus.Running, "the due sync finishes");
        Assert.Equal(SyncRunStatus.Succeeded, runs[0].Status);
        Assert.Equal("schedule", runs[0].Trigger);
    }

    [Fact]
    public async Task A_leader_that_stops_renewing_is_replaced_within_seconds()
    {
        await Eventually.Until(() => LeaseOf(A).IsLeader ^ LeaseOf(B).IsLeader, "exactly one leader", TimeSpan.FromSeconds(10));
        // The leader "dies": its lease is now held by a node that will never renew it (as if killed mid-lease).
        var redis = A.Services.GetRequiredService<RedisConnection>();
        await redis.Database.StringSetAsync(redis.Key(RedisLeaderLease.KeyName), "killed-node", TimeSpan.FromSeconds(1));

        await Eventually.Until(() => !LeaseOf(A).IsLeader && !LeaseOf(B).IsLeader, "no node believes it leads while the dead node's lease runs", TimeSpan.FromSeconds(3));
        var started = DateTime.UtcNow;
        await Eventually.Until(() => LeaseOf(A).IsLeader ^ LeaseOf(B).IsLeader, "a live node takes over", TimeSpan.FromSeconds(5));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3), "taken over within the dead lease plus one renewal");
        Assert.NotEqual("killed-node", (string?)await redis.Database.StringGetAsync(redis.Key(RedisLeaderLease.KeyName)));
    }

    [Fact]
    public async Task Two_syncs_of_one_provider_asked_on_two_nodes_at_once_run_once_and_the_other_reports_busy()
    {
        var (provider, secret) = await SeedSyncableProviderAsync("manual");
        A.Mock.State.SetKeyFault(secret, "slow:1500"); // the model list takes 1.5 s: both requests overlap

        async Task<SyncResult> SyncOn(AppFactory node)
        {
            await using var scope = node.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<ModelSync>().SyncAsync(provider.Id, "manual", CancellationToken.None);
        }
        var results = await Task.WhenAll(SyncOn(A), SyncOn(B));

        Assert.Single(results, r => r.Outcome == SyncOutcome.Succeeded);
        var busy = Assert.Single(results, r => r.Outcome == SyncOutcome.AlreadyRunning);
        Assert.Contains("already running", busy.Message);
        Assert.Equal(1, await A.QueryAsync(db => db.SyncRuns.CountAsync(r => r.ProviderId == provider.Id)));
    }

    /// <param name="syncIntervalMinutes">0: never scheduled (only asked-for syncs).</param>
    async Task<(Provider Provider, string Secret)> SeedSyncableProviderAsync(string name, int syncIntervalMinutes = 0)
    {
        await using var scope = A.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var secrets = scope.ServiceProvider.GetRequiredService<SecretBox>();
        var provider = new Provider
        {
            Name = $"{name}-{Guid.NewGuid():N}"[..12], DisplayName = $"Sync {name}", BaseUrl = A.Mock.OpenAIUrl, Kind = ProviderKind.Direct,
            ApiStandard = ApiStandard.OpenAI, Enabled = true, SyncIntervalMinutes = syncIntervalMinutes,
        };
        db.Providers.Add(provider);
        await db.SaveChangesAsync();
        var secret = $"sk-mock-{name}-{Guid.NewGuid():N}";
        db.ApiKeys.Add(new ApiKey
        {
            ProviderId = provider.Id, Name = "sync key", EncryptedSecret = secrets.Encrypt(secret),
            SecretFingerprint = secrets.Fingerprint(secret), MaskedHint = SecretBox.Mask(secret),
        });
        await db.SaveChangesAsync();
        return (provider, secret);
    }
}
