using Aggregator.Web.Data;
using Aggregator.Web.Upstream;
using Microsoft.Extensions.DependencyInjection;
using static Aggregator.Web.Tests.Router.RouterAppFactory;
using static Aggregator.Web.Tests.Infrastructure.Eventually;
using Aggregator.Web.Upstream.Keys;

namespace Aggregator.Web.Tests.Router;

/// <summary>Rotation, failover before the first token and key health, against the mock upstream.</summary>
public class RouterFailoverTests(RouterAppFactory app) : IClassFixture<RouterAppFactory>
{
    [Fact]
    public async Task Three_hundred_requests_over_ok_429_and_401_keys_all_succeed_and_the_bad_keys_are_handled()
    {
        string ok = NewSecret("ok"), limited = NewSecret("limited"), invalid = NewSecret("invalid");
        app.Mock.State.SetKeyFault(limited, "429:30");
        app.Mock.State.SetKeyFault(invalid, "401");
        var seeded = await app.SeedAsync([ok, limited, invalid]);

        var runs = new List<RouterRun>();
        for (var batch = 0; batch < 30; batch++)
            runs.AddRange(await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => app.Router.RunAsync(seeded.Ask(userId: "busy-user", tier: Tier.Free)))));

        Assert.Equal(300, runs.Count); // one free-tier user: no limit unless configured
        Assert.All(runs, r => r.AssertCompleted());
        Assert.All(runs, r => Assert.Equal(seeded.KeyIds[0], r.Route!.ApiKeyId));
        // Only requests already in flight when the first answer came back can have used the bad keys.
        Assert.InRange(app.Mock.State.CountFor(invalid), 1, 10);
        Assert.InRange(app.Mock.State.CountFor(limited), 1, 10);

        await app.FlushAsync();
        var invalidRow = await app.KeyRowAsync(seeded.KeyIds[2]);
        Assert.False(invalidRow.Active);
        Assert.StartsWith("401 invalid_api_key at ", invalidRow.DisabledReason);
        Assert.NotNull(invalidRow.DisabledAt);
        var limitedRow = await app.KeyRowAsync(seeded.KeyIds[1]);
        Assert.True(limitedRow.Active);
        Assert.True(limitedRow.CooldownUntil > DateTime.UtcNow, "the 429 key should be cooling down");
        var okRow = await app.KeyRowAsync(seeded.KeyIds[0]);
        Assert.Equal(300, okRow.RequestCount);
        Assert.NotNull(okRow.LastUsedAt);

        // The probe re-tests it while the fault lasts (still cooling), and returns it once the provider accepts it.
        var probe = app.Services.GetRequiredService<KeyProbe>();
        Assert.Equal(0, await probe.ProbeNowAsync());
        app.Mock.State.ClearKeyFault(limited);
        Assert.Equal(1, await probe.ProbeNowAsync());
        await app.FlushAsync();
        Assert.Null((await app.KeyRowAsync(seeded.KeyIds[1])).CooldownUntil);
        var before = app.Mock.State.CountFor(limited);
        for (var i = 0; i < 4; i++) (await app.Router.RunAsync(seeded.Ask())).AssertCompleted();
        Assert.True(app.Mock.State.CountFor(limited) > before, "the returned key serves requests again");
    }

    [Fact]
    public async Task Sixteen_concurrent_requests_over_four_keys_use_each_key_four_times()
    {
        var secrets = Enumerable.Range(0, 4).Select(i => NewSecret($"k{i}")).ToArray();
        var seeded = await app.SeedAsync(secrets);
        var runs = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => app.Router.RunAsync(seeded.Ask("mock:tps=200")))));
        Assert.All(runs, r => r.AssertCompleted());
        Assert.All(secrets, s => Assert.Equal(4, app.Mock.State.CountFor(s)));
        Assert.All(seeded.KeyIds, id => Assert.Equal(4, runs.Count(r => r.Route!.ApiKeyId == id)));
    }

    [Fact]
    public async Task Failover_never_happens_after_the_first_token()
    {
        string dropping = NewSecret("drop"), ok = NewSecret("ok");
        // Slow tokens: an abort right after a burst can make the client's kernel drop the unread bytes.
        app.Mock.State.SetKeyFault(dropping, "drop_after:3,slow:40");
        var seeded = await app.SeedAsync([dropping, ok]);
        var request = seeded.Ask();

        var run = await app.Router.RunAsync(request);

        Assert.Equal(RouterError.Interrupted, run.RouterError.Error);
        Assert.Equal(seeded.KeyIds[0], run.Route!.ApiKeyId);
        // The last chunk before the abort may be lost with the connection; never more than three.
        Assert.InRange(run.Events.OfType<ContentDelta>().Count(), 1, 3);
        Assert.Equal(1, app.Mock.State.CountFor(dropping));
        Assert.Equal(0, app.Mock.State.CountFor(ok));
        await app.FlushAsync();
        var usage = Assert.Single(await app.UsageForAsync(request.UserId));
        Assert.True(usage.Estimated);
        Assert.True(usage.CompletionTokens > 0);
    }

    [Fact]
    public async Task Mid_stream_error_event_interrupts_without_retry()
    {
        string failing = NewSecret("err"), ok = NewSecret("ok");
        app.Mock.State.SetKeyFault(failing, "error_event,slow:20");
        var seeded = await app.SeedAsync([failing, ok]);
        var run = await app.Router.RunAsync(seeded.Ask());
        Assert.Equal(RouterError.Interrupted, run.RouterError.Error);
        Assert.NotEmpty(run.Events.OfType<ContentDelta>());
        Assert.Equal(0, app.Mock.State.CountFor(ok));
    }

    [Theory]
    [InlineData("500")]
    [InlineData("503")]
    [InlineData("reset")]
    [InlineData("hang")]
    [InlineData("error_200")]
    [InlineData("garbage")]
    public async Task Failures_before_the_first_token_move_on_to_the_next_key(string fault)
    {
        string bad = NewSecret("bad"), ok = NewSecret("ok");
        app.Mock.State.SetKeyFault(bad, fault);
        var seeded = await app.SeedAsync([bad, ok]);
        var run = await app.Router.RunAsync(seeded.Ask());
        run.AssertCompleted();
        Assert.Equal(seeded.KeyIds[1], run.Route!.ApiKeyId);
        Assert.Equal(1, app.Mock.State.CountFor(bad));
        Assert.DoesNotContain(run.Events, e => e is RouteStarted && ((RouteStarted)e).Route.ApiKeyId == seeded.KeyIds[0]);
    }

    [Fact]
    public async Task Anthropic_overloaded_fails_over_to_the_next_key()
    {
        string overloaded = NewSecret("busy"), ok = NewSecret("ok");
        app.Mock.State.SetKeyFault(overloaded, "529");
        var seeded = await app.SeedAsync([overloaded, ok], ApiStandard.Anthropic, "claude-sonnet-4-5");
        var run = await app.Router.RunAsync(seeded.Ask());
        run.AssertCompleted();
        Assert.Equal(seeded.KeyIds[1], run.Route!.ApiKeyId);
    }

    [Fact]
    public async Task Every_key_failing_ends_with_a_clear_error_after_the_budget()
    {
        var secrets = Enumerable.Range(0, 8).Select(i => NewSecret($"down{i}")).ToArray();
        foreach (var s in secrets) app.Mock.State.SetKeyFault(s, "500");
        var seeded = await app.SeedAsync(secrets);

        var run = await app.Router.RunAsync(seeded.Ask());

        var error = run.RouterError;
        Assert.Equal(RouterError.UpstreamFailed, error.Error);
        Assert.Contains("500", error.Message);
        Assert.Empty(run.Events);
        Assert.Equal(5, secrets.Sum(s => app.Mock.State.CountFor(s))); // Router:MaxAttempts
    }

    [Fact]
    public async Task Insufficient_quota_cools_the_key_for_long_and_is_not_retried_on_it()
    {
        string broke = NewSecret("broke"), ok = NewSecret("ok");
        app.Mock.State.SetKeyFault(broke, "insufficient_quota");
        var seeded = await app.SeedAsync([broke, ok]);
        for (var i = 0; i < 5; i++) (await app.Router.RunAsync(seeded.Ask())).AssertCompleted();
        Assert.Equal(1, app.Mock.State.CountFor(broke));
        await app.FlushAsync();
        var row = await app.KeyRowAsync(seeded.KeyIds[0]);
        Assert.True(row.Active);
        Assert.True(row.CooldownUntil > DateTime.UtcNow.AddHours(1));
    }

    [Fact]
    public async Task A_single_rate_limited_key_is_waited_for_within_retry_after()
    {
        var secret = NewSecret("once");
        var seeded = await app.SeedAsync([secret]);
        app.Mock.State.SetKeyFault(secret, "429:1");
        var started = DateTime.UtcNow;
        var task = app.Router.RunAsync(seeded.Ask());
        await Until(() => app.Pool.Describe(seeded.KeyIds[0])?.CooldownUntil is not null, "the first attempt to be rate limited");
        app.Mock.State.ClearKeyFault(secret);
        var run = await task;
        run.AssertCompleted();
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(0.9), "Retry-After was not honoured");
        Assert.Equal(2, app.Mock.State.CountFor(secret));
    }

    [Fact]
    public async Task Fallback_to_another_provider_serving_the_same_model_when_allowed()
    {
        var down = NewSecret("down");
        app.Mock.State.SetKeyFault(down, "503");
        var primary = await app.SeedAsync([down], modelId: "qwen-max", allowFallback: true);
        var other = await app.SeedAsync([NewSecret("other")], modelId: "qwen-max");

        var run = await app.Router.RunAsync(primary.Ask());

        run.AssertCompleted();
        Assert.Equal(other.ProviderId, run.Route!.ProviderId);
        Assert.Equal(other.ModelId, run.Route.ModelId);
    }

    [Fact]
    public async Task No_fallback_unless_the_provider_allows_it()
    {
        var down = NewSecret("down");
        app.Mock.State.SetKeyFault(down, "503");
        var primary = await app.SeedAsync([down], modelId: "gpt-4o-mini");
        await app.SeedAsync([NewSecret("other")], modelId: "gpt-4o-mini");
        var run = await app.Router.RunAsync(primary.Ask());
        Assert.Equal(RouterError.UpstreamFailed, run.RouterError.Error);
    }
}
