using Aggregator.Web.Data;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Tests.Router;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Routing;
using Aggregator.Web.Upstream.Usage;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>Two nodes on a Redis of the test's own, which the test stops and starts again; Pro: 5 messages a day.</summary>
public sealed class OutageNodes(string redis) : RouterAppFactory
{
    protected override IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["ConnectionStrings:Redis"] = redis,
        ["Quotas:Pro:MessagesPerDay"] = "5",
    };
}

/// <summary>Redis stopped mid-run: replies are still served, counted on each node; when Redis returns the nodes converge.</summary>
public sealed class SharedStateOutageTests : IAsyncLifetime
{
    readonly PrivateRedis _redis = new();
    OutageNodes _a = null!;
    SecondNode _b = null!;

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        _a = new OutageNodes(_redis.ConnectionString);
        await _a.InitializeAsync();
        _a.StartServer();
        _b = new SecondNode(_a);
        _b.StartServer();
    }

    public async Task DisposeAsync()
    {
        await _b.DisposeAsync();
        await ((IAsyncLifetime)_a).DisposeAsync();
        await _a.DisposeAsync();
        _redis.Dispose();
    }

    [Fact]
    public async Task With_Redis_stopped_replies_are_served_and_counted_locally_and_the_nodes_converge_when_it_returns()
    {
        var seeded = await _a.SeedAsync([RouterAppFactory.NewSecret(), RouterAppFactory.NewSecret()]);
        await _b.Services.GetRequiredService<RoutingTable>().ReloadAsync();
        const string user = "pro-through-an-outage";
        (await _a.Router.RunAsync(seeded.Ask(tier: Tier.Pro, userId: user))).AssertCompleted();
        await _a.FlushAsync();

        _redis.Kill();
        // Served on local counting: the node seeds today from the usage rows (one message) and allows four more.
        var runs = new List<RouterRun>();
        for (var i = 0; i < 5; i++) runs.Add(await _a.Router.RunAsync(seeded.Ask(tier: Tier.Pro, userId: user)));
        Assert.Equal(4, runs.Count(r => r.Error is null));
        Assert.Equal(RouterError.QuotaExceeded, runs[^1].RouterError.Error);
        await _a.FlushAsync();
        // A cooldown decided while Redis is away holds on this node.
        var cooled = (await _a.Pool.AcquireAsync(seeded.ProviderId, null, CancellationToken.None)).Key!;
        await _a.Pool.ReportFailureAsync(cooled, KeyFault.RateLimited, TimeSpan.FromMinutes(5), "429 rate_limit_exceeded");
        var other = seeded.KeyIds.Single(id => id != cooled.KeyId);
        Assert.Null((await _a.Pool.AcquireAsync(seeded.ProviderId, [other], CancellationToken.None)).Key);

        await _redis.StartAsync(); // empty: it lost everything
        var poolB = _b.Services.GetRequiredService<IApiKeyPool>();
        // A pushes what it decided alone; B, which never heard of the cooldown, skips the key once Redis has it.
        await Eventually.Until(async () => (await poolB.AcquireAsync(seeded.ProviderId, [other], CancellationToken.None)).Key, k => k is null,
            "B skipping the key A cooled down during the outage", TimeSpan.FromSeconds(45)); // a deadline: the client reconnects on its own backoff, slower on a loaded machine
        // The day's count comes back from the usage rows: five messages, none left.
        var quotasB = _b.Services.GetRequiredService<ITierQuotas>();
        var error = await Assert.ThrowsAsync<RouterException>(async () => await quotasB.AcquireAsync(user, Tier.Pro, CancellationToken.None));
        Assert.Equal(RouterError.QuotaExceeded, error.Error);
    }
}
