using Aggregator.Web.Data;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Tests.Router;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Routing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>
/// Two nodes on one database and Redis pick keys from one pool: node B's clock runs 2 s ahead of A's,
/// which must not matter (cooldowns are judged by Redis's clock).
/// </summary>
public sealed class SharedKeyPoolTests : IAsyncLifetime
{
    readonly RouterAppFactory _a = new();
    SecondNode _second = null!;
    WebApplicationFactory<Program> _b = null!;

    public async Task InitializeAsync()
    {
        await _a.InitializeAsync();
        _a.StartServer();
        _second = new SecondNode(_a);
        _b = _second.WithClockOff(TimeSpan.FromSeconds(2));
        _b.StartServer();
    }

    public async Task DisposeAsync()
    {
        await _second.DisposeAsync();
        await ((IAsyncLifetime)_a).DisposeAsync();
        await _a.DisposeAsync();
    }

    IApiKeyPool PoolA => _a.Pool;
    IApiKeyPool PoolB => _b.Services.GetRequiredService<IApiKeyPool>();

    async Task<Seeded> KeysAsync(int count)
    {
        var seeded = await _a.SeedAsync(Enumerable.Range(0, count).Select(_ => RouterAppFactory.NewSecret()).ToArray());
        await _b.Services.GetRequiredService<RoutingTable>().ReloadAsync();
        return seeded;
    }

    static async Task<long?> PickAsync(IApiKeyPool pool, Seeded seeded, params long[] exclude) =>
        (await pool.AcquireAsync(seeded.ProviderId, exclude, CancellationToken.None)).Key?.KeyId;

    [Fact]
    public async Task Concurrent_picks_split_over_two_nodes_get_as_many_different_keys()
    {
        var seeded = await KeysAsync(8);
        using var start = new Barrier(8);
        var picks = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            start.SignalAndWait();
            return await PickAsync(i % 2 == 0 ? PoolA : PoolB, seeded);
        })));
        Assert.Equal(seeded.KeyIds.Order(), picks.Select(p => p!.Value).Order());
    }

    [Fact]
    public async Task A_cooldown_decided_on_one_node_is_skipped_by_the_next_pick_on_another_whose_clock_is_ahead()
    {
        var seeded = await KeysAsync(2);
        var cooled = (await PoolA.AcquireAsync(seeded.ProviderId, null, CancellationToken.None)).Key!;
        await PoolA.ReportFailureAsync(cooled, KeyFault.RateLimited, TimeSpan.FromSeconds(1.5), "429 rate_limit_exceeded");

        // By B's own clock (2 s ahead) that cooldown is over already; by Redis's it is not.
        for (var i = 0; i < 4; i++) Assert.NotEqual(cooled.KeyId, await PickAsync(PoolB, seeded));
        var other = seeded.KeyIds.Single(id => id != cooled.KeyId);
        var none = await PoolB.AcquireAsync(seeded.ProviderId, [other], CancellationToken.None);
        Assert.Null(none.Key);
        Assert.NotNull(none.RetryAt);
        // B's copy, what its keys page shows, hears of it within a second.
        await Eventually.Until(() => PoolB.Describe(cooled.KeyId)?.CooldownUntil is not null, "B's copy showing A's cooldown", TimeSpan.FromSeconds(1));
        // When the cooldown ends, B picks the key again.
        await Eventually.Until(() => PickAsync(PoolB, seeded, other), id => id == cooled.KeyId, "the key back after its cooldown", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_success_on_one_node_does_not_clear_a_cooldown_another_node_just_set()
    {
        var seeded = await KeysAsync(1);
        var onB = (await PoolB.AcquireAsync(seeded.ProviderId, null, CancellationToken.None)).Key!; // B's request is under way
        var onA = (await PoolA.AcquireAsync(seeded.ProviderId, null, CancellationToken.None)).Key!; // and A's, on the same key
        await PoolA.ReportFailureAsync(onA, KeyFault.RateLimited, TimeSpan.FromMinutes(1), "429 rate_limit_exceeded");
        await PoolB.ReportSuccessAsync(onB); // B's reply started fine, after A's failure

        var onBAgain = await PoolB.AcquireAsync(seeded.ProviderId, null, CancellationToken.None);
        Assert.Null(onBAgain.Key);
        Assert.NotNull(onBAgain.RetryAt);
        Assert.Null((await PoolA.AcquireAsync(seeded.ProviderId, null, CancellationToken.None)).Key);
        // The row keeps it too, whichever node writes last.
        await _b.Services.GetRequiredService<KeyStateWriter>().FlushAsync();
        await _a.Services.GetRequiredService<KeyStateWriter>().FlushAsync();
        await _b.Services.GetRequiredService<KeyStateWriter>().FlushAsync();
        Assert.NotNull((await _a.KeyRowAsync(seeded.KeyIds[0])).CooldownUntil);
    }

    [Fact]
    public async Task A_key_disabled_on_one_node_is_no_longer_picked_on_another()
    {
        var seeded = await KeysAsync(3);
        var revoked = (await PoolA.AcquireAsync(seeded.ProviderId, null, CancellationToken.None)).Key!;
        await PoolA.ReportFailureAsync(revoked, KeyFault.InvalidKey, null, "401 invalid_api_key");
        for (var i = 0; i < 4; i++) Assert.NotEqual(revoked.KeyId, await PickAsync(PoolB, seeded));
        await Eventually.Until(() => PoolB.Describe(revoked.KeyId)?.Active == false, "B's copy showing the key disabled", TimeSpan.FromSeconds(1));

        // An admin disables another key; only A has reloaded its routing table since: B stops picking it within a second.
        var byAdmin = seeded.KeyIds.First(id => id != revoked.KeyId);
        await _a.DbAsync(db => db.ApiKeys.Where(k => k.Id == byAdmin).ExecuteUpdateAsync(s => s.SetProperty(k => k.Active, false)));
        await _a.Services.GetRequiredService<RoutingTable>().ReloadAsync();
        var last = seeded.KeyIds.Single(id => id != revoked.KeyId && id != byAdmin);
        await Eventually.Until(() => PickAsync(PoolB, seeded, last), id => id is null, "B skipping the key the admin disabled", TimeSpan.FromSeconds(1));
    }
}
