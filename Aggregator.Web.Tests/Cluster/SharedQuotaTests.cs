using Aggregator.Web.Data;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Usage;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>Free: 10 requests a minute; Pro: 10 messages a day; Max: 1,000 tokens a day.</summary>
public sealed class QuotaNodes : AppFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Sync:SchedulerEnabled"] = "false",
        ["Quotas:Free:RequestsPerMinute"] = "10", ["Quotas:Free:MessagesPerDay"] = "", ["Quotas:Free:TokensPerDay"] = "",
        ["Quotas:Pro:RequestsPerMinute"] = "", ["Quotas:Pro:MessagesPerDay"] = "10", ["Quotas:Pro:TokensPerDay"] = "",
        ["Quotas:Max:TokensPerDay"] = "1000",
    };
}

/// <summary>Tier quotas counted once for the cluster: two nodes (B's clock 2 s ahead) never let more through than the limit.</summary>
public sealed class SharedQuotaTests : IAsyncLifetime
{
    readonly QuotaNodes _a = new();
    SecondNode _second = null!;
    WebApplicationFactory<Program> _b = null!;

    public Task InitializeAsync()
    {
        _a.StartServer();
        _second = new SecondNode(_a);
        _b = _second.WithClockOff(TimeSpan.FromSeconds(2));
        _b.StartServer();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _second.DisposeAsync();
        await _a.DisposeAsync();
    }

    /// <summary>
    /// A node started and on Redis, as a load balancer would send it traffic (after /health/ready): a node whose
    /// Redis is not connected yet counts on its local fallback by design, which is not what this test measures.
    /// </summary>
    static async Task<SecondNode> StartedAsync(SecondNode node)
    {
        node.StartServer();
        var redis = node.Services.GetRequiredService<Aggregator.Web.Cluster.RedisConnection>();
        await Eventually.Until(() => Task.FromResult(redis.IsConnected), connected => connected, "the node connected to Redis", TimeSpan.FromSeconds(20));
        return node;
    }

    static ITierQuotas Quotas(WebApplicationFactory<Program> node) => node.Services.GetRequiredService<ITierQuotas>();
    static string NewUser() => "user-" + Guid.NewGuid().ToString("N")[..10];

    static async Task<QuotaTicket?> TryAsync(ITierQuotas quotas, string user, Tier tier)
    {
        try { return await quotas.AcquireAsync(user, tier, CancellationToken.None); }
        catch (RouterException ex) when (ex.Error == RouterError.QuotaExceeded) { return null; }
    }

    /// <summary><paramref name="count"/> simultaneous messages, alternating between the nodes; the tickets of those let through.</summary>
    static async Task<List<QuotaTicket>> FloodAsync(int count, string user, Tier tier, params WebApplicationFactory<Program>[] nodes)
    {
        using var start = new Barrier(count);
        var results = await Task.WhenAll(Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            start.SignalAndWait();
            return await TryAsync(Quotas(nodes[i % nodes.Length]), user, tier);
        })));
        return results.OfType<QuotaTicket>().ToList();
    }

    [Fact]
    public async Task A_tiers_requests_per_minute_are_limited_exactly_across_two_nodes()
    {
        var user = NewUser();
        Assert.Equal(10, (await FloodAsync(40, user, Tier.Free, _a, _b)).Count);
        // The limit is the user's: another user of the tier has all ten.
        Assert.Equal(10, (await FloodAsync(20, NewUser(), Tier.Free, _a, _b)).Count);
    }

    [Fact]
    public async Task Daily_messages_are_limited_exactly_across_two_nodes_and_a_refund_on_one_is_seen_on_the_other()
    {
        var user = NewUser();
        var tickets = await FloodAsync(40, user, Tier.Pro, _a, _b);
        Assert.Equal(10, tickets.Count);
        tickets[0].Refund(); // nothing was served for that one
        var again = await Eventually.Until(() => TryAsync(Quotas(tickets[0].Quotas == Quotas(_a) ? _b : _a), user, Tier.Pro), t => t is not null,
            "the refunded message usable on the other node", TimeSpan.FromSeconds(5));
        Assert.NotNull(again);
        Assert.Null(await TryAsync(Quotas(_a), user, Tier.Pro));
        Assert.Null(await TryAsync(Quotas(_b), user, Tier.Pro));
    }

    [Fact]
    public async Task Tokens_settled_on_one_node_count_on_the_other()
    {
        var user = NewUser();
        var ticket = (await TryAsync(Quotas(_a), user, Tier.Max))!.Value;
        ticket.Complete(new TokenUsage(600, 400));
        await Eventually.Until(() => TryAsync(Quotas(_b), user, Tier.Max), t => t is null, "B refusing once A's reply used the day's tokens", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Restarting_every_node_that_counted_keeps_the_days_count()
    {
        var user = NewUser();
        // Two nodes count six messages whose replies have not been recorded yet, then both restart.
        var first = await StartedAsync(new SecondNode(_a));
        var second = await StartedAsync(new SecondNode(_a));
        Assert.Equal(6, (await FloodAsync(6, user, Tier.Pro, first, second)).Count);
        await first.DisposeAsync();
        await second.DisposeAsync();

        var third = await StartedAsync(new SecondNode(_a));
        var fourth = await StartedAsync(new SecondNode(_a));
        try
        {
            Assert.Equal(4, (await FloodAsync(20, user, Tier.Pro, third, fourth)).Count);
        }
        finally
        {
            await third.DisposeAsync();
            await fourth.DisposeAsync();
        }
    }
}
