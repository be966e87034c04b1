using System.Security.Cryptography;
using Aggregator.Web.Security;
using Aggregator.Web.Upstream;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Tests.Router;

/// <summary>The key pool on its own: rotation, atomic picks, health transitions, state surviving reloads.</summary>
public class KeyPoolTests
{
    readonly SecretBox _box = new(RandomNumberGenerator.GetBytes(32));
    readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 6, 1, 0, TimeSpan.Zero));
    readonly KeyHealthOptions _options = new() { FailuresBeforeCooldown = 3, FailureWindow = TimeSpan.FromMinutes(1), BaseCooldown = TimeSpan.FromSeconds(30), MaxCooldown = TimeSpan.FromMinutes(5) };

    ApiKeyPool Pool(int keys, out KeyRow[] rows)
    {
        var pool = new ApiKeyPool(_box, new StaticMonitor<KeyHealthOptions>(_options), _time, NullLogger<ApiKeyPool>.Instance);
        rows = Enumerable.Range(1, keys).Select(i => new KeyRow(i, 1, _box.Encrypt($"sk-key-{i}-0000000000"), true, null, 0, null)).ToArray();
        pool.Sync(rows, _time.GetUtcNow().UtcDateTime);
        return pool;
    }

    [Fact]
    public async Task Concurrent_picks_spread_evenly_over_the_keys()
    {
        var pool = Pool(4, out _);
        using var start = new ManualResetEventSlim();
        var picks = Enumerable.Range(0, 16).Select(n => Task.Run(() =>
        {
            start.Wait();
            return pool.TryAcquire(1, null, out _)!.KeyId;
        })).ToArray();
        start.Set();
        var ids = await Task.WhenAll(picks);
        Assert.All(ids.GroupBy(id => id), g => Assert.Equal(4, g.Count()));
        Assert.Equal(4, ids.Distinct().Count());
    }

    [Fact]
    public void Picks_go_least_recently_used_first()
    {
        var pool = Pool(3, out _);
        var order = Enumerable.Range(0, 6).Select(n => pool.TryAcquire(1, null, out _)!.KeyId).ToArray();
        Assert.Equal([1L, 2, 3, 1, 2, 3], order);
    }

    [Fact]
    public void Invalid_key_is_disabled_with_reason_and_time()
    {
        var pool = Pool(2, out _);
        var key = pool.TryAcquire(1, null, out _)!;
        var health = pool.ReportFailure(key, KeyFault.InvalidKey, null, "401 invalid_api_key");
        Assert.False(health.Active);
        Assert.Equal("401 invalid_api_key at 2026-11-26 06:01Z", health.DisabledReason);
        Assert.Equal(_time.GetUtcNow().UtcDateTime, health.DisabledAt);
        Assert.All(Enumerable.Range(0, 5), n => Assert.Equal(2, pool.TryAcquire(1, null, out _)!.KeyId));
        Assert.Equal(1, pool.CountActive(1));
    }

    [Fact]
    public void One_blip_does_not_cool_a_key_but_repeated_failures_do_and_cooldowns_grow()
    {
        var pool = Pool(1, out _);
        var key = pool.TryAcquire(1, null, out _)!;
        Assert.Null(pool.ReportFailure(key, KeyFault.ServerError, null, "500").CooldownUntil);
        Assert.Null(pool.ReportFailure(key, KeyFault.ServerError, null, "500").CooldownUntil);
        var first = pool.ReportFailure(key, KeyFault.ServerError, null, "500").CooldownUntil;
        Assert.Equal(_time.GetUtcNow().UtcDateTime.AddSeconds(30), first);
        Assert.Null(pool.TryAcquire(1, null, out var retryAt));
        Assert.Equal(first, retryAt);

        _time.Advance(TimeSpan.FromSeconds(31));
        for (var i = 0; i < 2; i++) pool.ReportFailure(key, KeyFault.RateLimited, null, "429");
        var second = pool.ReportFailure(key, KeyFault.RateLimited, null, "429").CooldownUntil;
        Assert.Equal(_time.GetUtcNow().UtcDateTime.AddSeconds(60), second);
    }

    [Fact]
    public void Failures_outside_the_window_do_not_add_up()
    {
        var pool = Pool(1, out _);
        var key = pool.TryAcquire(1, null, out _)!;
        for (var i = 0; i < 5; i++)
        {
            Assert.Null(pool.ReportFailure(key, KeyFault.ServerError, null, "500").CooldownUntil);
            _time.Advance(TimeSpan.FromSeconds(31));
        }
    }

    [Fact]
    public void Retry_after_is_honoured_even_for_one_rate_limit()
    {
        var pool = Pool(1, out _);
        var key = pool.TryAcquire(1, null, out _)!;
        var health = pool.ReportFailure(key, KeyFault.RateLimited, TimeSpan.FromSeconds(2), "429 rate_limit_exceeded");
        Assert.Equal(_time.GetUtcNow().UtcDateTime.AddSeconds(2), health.CooldownUntil);
        Assert.Null(pool.TryAcquire(1, null, out _));
        _time.Advance(TimeSpan.FromSeconds(2.1));
        var again = pool.TryAcquire(1, null, out _)!;
        pool.ReportSuccess(again);
        Assert.Null(pool.Describe(again.KeyId)!.CooldownUntil);
        Assert.Contains(pool.TakeWrites(), w => w.WritesState && w.CooldownUntil is null);
    }

    [Fact]
    public void Quota_exhaustion_gives_a_long_cooldown_that_probes_do_not_lift()
    {
        var pool = Pool(1, out _);
        var key = pool.TryAcquire(1, null, out _)!;
        var health = pool.ReportFailure(key, KeyFault.QuotaExhausted, null, "429 insufficient_quota");
        Assert.Equal(_time.GetUtcNow().UtcDateTime + _options.QuotaCooldown, health.CooldownUntil);
        Assert.Empty(pool.KeysToProbe());
    }

    [Fact]
    public void A_successful_probe_returns_a_cooled_key()
    {
        var pool = Pool(1, out _);
        var key = pool.TryAcquire(1, null, out _)!;
        for (var i = 0; i < 3; i++) pool.ReportFailure(key, KeyFault.ServerError, null, "500");
        Assert.Equal([key], pool.KeysToProbe());
        pool.ReportProbe(key, healthy: false);
        Assert.Null(pool.TryAcquire(1, null, out _));
        pool.ReportProbe(key, healthy: true);
        Assert.Same(key, pool.TryAcquire(1, null, out _));
        Assert.Equal(0, pool.Describe(key.KeyId)!.ConsecutiveFailures);
    }

    [Fact]
    public void Reloading_the_rows_keeps_rotation_and_unwritten_health()
    {
        var pool = Pool(3, out var rows);
        Assert.Equal(1, pool.TryAcquire(1, null, out _)!.KeyId);
        var k2 = pool.TryAcquire(1, null, out _)!;
        pool.ReportFailure(k2, KeyFault.InvalidKey, null, "401 invalid_api_key");
        // A reload with the stale rows (read before the change was written) must not resurrect key 2 or reset rotation.
        pool.Sync(rows, _time.GetUtcNow().UtcDateTime.AddSeconds(-1));
        Assert.Equal(3, pool.TryAcquire(1, null, out _)!.KeyId);
        Assert.Equal(1, pool.TryAcquire(1, null, out _)!.KeyId);
        Assert.False(pool.Describe(2)!.Active);
    }

    [Fact]
    public void Written_state_yields_to_newer_rows_from_an_admin()
    {
        var pool = Pool(1, out var rows);
        var key = pool.TryAcquire(1, null, out _)!;
        pool.ReportFailure(key, KeyFault.InvalidKey, null, "401 invalid_api_key");
        var writes = pool.TakeWrites();
        Assert.True(Assert.Single(writes).WritesState);
        pool.MarkWritten(writes, _time.GetUtcNow().UtcDateTime);
        _time.Advance(TimeSpan.FromSeconds(1));
        // The admin re-enabled it afterwards.
        pool.Sync(rows, _time.GetUtcNow().UtcDateTime);
        Assert.True(pool.Describe(1)!.Active);
        Assert.NotNull(pool.TryAcquire(1, null, out _));
    }

    [Fact]
    public void Counters_are_batched_until_taken()
    {
        var pool = Pool(2, out _);
        for (var i = 0; i < 10; i++) pool.TryAcquire(1, null, out _);
        var writes = pool.TakeWrites();
        Assert.Equal(10, writes.Sum(w => w.RequestDelta));
        Assert.Empty(pool.TakeWrites());
        pool.ReturnUnwritten(writes);
        Assert.Equal(10, pool.TakeWrites().Sum(w => w.RequestDelta));
    }

    [Fact]
    public void A_key_that_cannot_be_decrypted_is_skipped()
    {
        var pool = Pool(1, out var rows);
        var other = new SecretBox(RandomNumberGenerator.GetBytes(32));
        pool.Sync([rows[0], new KeyRow(2, 1, other.Encrypt("sk-foreign-000000000"), true, null, 0, null)], _time.GetUtcNow().UtcDateTime);
        Assert.Equal(1, pool.CountActive(1));
        Assert.All(Enumerable.Range(0, 3), n => Assert.Equal(1, pool.TryAcquire(1, null, out _)!.KeyId));
    }
}

sealed class StaticMonitor<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;
    public T Get(string? name) => value;
    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
