using Aggregator.Web.Data;
using Aggregator.Web.Upstream;
using static Aggregator.Web.Tests.Router.RouterAppFactory;
using Aggregator.Web.Upstream.Usage;

namespace Aggregator.Web.Tests.Router;

public sealed class QuotaAppFactory : RouterAppFactory
{
    protected override IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Quotas:Free:RequestsPerMinute"] = "3",
        ["Quotas:Pro:MessagesPerDay"] = "2",
        ["Quotas:Max:TokensPerDay"] = "50",
    };
}

/// <summary>Per-tier limits are checked before routing and say which limit and when it resets.</summary>
public class RouterQuotaTests(QuotaAppFactory app) : IClassFixture<QuotaAppFactory>
{
    [Fact]
    public async Task Requests_per_minute_limit_gives_quota_exceeded_with_retry_after()
    {
        var secret = NewSecret();
        var seeded = await app.SeedAsync([secret]);
        for (var i = 0; i < 3; i++) (await app.Router.RunAsync(seeded.Ask(tier: Tier.Free, userId: "free-user"))).AssertCompleted();
        var run = await app.Router.RunAsync(seeded.Ask(tier: Tier.Free, userId: "free-user"));
        var error = run.RouterError;
        Assert.Equal(RouterError.QuotaExceeded, error.Error);
        Assert.Contains("3 requests per minute", error.Message);
        Assert.NotNull(error.RetryAfter);
        Assert.InRange(error.RetryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        Assert.Equal(3, app.Mock.State.CountFor(secret));
        // Another user of the same tier has a limit of their own.
        (await app.Router.RunAsync(seeded.Ask(tier: Tier.Free, userId: "other-free-user"))).AssertCompleted();
    }

    [Fact]
    public async Task Messages_per_day_limit_names_the_limit_and_the_reset()
    {
        var seeded = await app.SeedAsync([NewSecret()]);
        for (var i = 0; i < 2; i++) (await app.Router.RunAsync(seeded.Ask(tier: Tier.Pro, userId: "pro-user"))).AssertCompleted();
        var error = (await app.Router.RunAsync(seeded.Ask(tier: Tier.Pro, userId: "pro-user"))).RouterError;
        Assert.Equal(RouterError.QuotaExceeded, error.Error);
        Assert.Contains("2 messages", error.Message);
        Assert.Contains("00:00 UTC", error.Message);
        var untilMidnight = DateTime.UtcNow.Date.AddDays(1) - DateTime.UtcNow;
        Assert.InRange(error.RetryAfter!.Value, untilMidnight - TimeSpan.FromMinutes(1), untilMidnight + TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Requests_that_fail_before_routing_do_not_use_up_the_daily_messages()
    {
        var secret = NewSecret();
        app.Mock.State.SetKeyFault(secret, "500");
        var seeded = await app.SeedAsync([secret]);
        for (var i = 0; i < 2; i++)
            Assert.Equal(RouterError.UpstreamFailed, (await app.Router.RunAsync(seeded.Ask(tier: Tier.Pro, userId: "pro-unlucky"))).RouterError.Error);
        app.Mock.State.ClearKeyFault(secret);
        for (var i = 0; i < 2; i++) (await app.Router.RunAsync(seeded.Ask(tier: Tier.Pro, userId: "pro-unlucky"))).AssertCompleted();
        Assert.Equal(RouterError.QuotaExceeded, (await app.Router.RunAsync(seeded.Ask(tier: Tier.Pro, userId: "pro-unlucky"))).RouterError.Error);
    }

    [Fact]
    public async Task Tokens_per_day_limit_counts_what_completions_used()
    {
        var seeded = await app.SeedAsync([NewSecret()]);
        var first = await app.Router.RunAsync(seeded.Ask(tier: Tier.Max, userId: "max-user"));
        first.AssertCompleted();
        Assert.True(first.Completed!.Usage.Total > 50, "the mock reply should use more than the 50-token limit");
        var error = (await app.Router.RunAsync(seeded.Ask(tier: Tier.Max, userId: "max-user"))).RouterError;
        Assert.Equal(RouterError.QuotaExceeded, error.Error);
        Assert.Contains("50 tokens", error.Message);
    }

    [Fact]
    public async Task Daily_counts_survive_a_restart_because_they_are_seeded_from_usage_rows()
    {
        var seeded = await app.SeedAsync([NewSecret()]);
        var now = DateTime.UtcNow;
        await app.DbAsync(async db =>
        {
            for (var i = 0; i < 2; i++)
                db.Usage.Add(new UsageRecord { UserId = "pro-returning", ProviderId = seeded.ProviderId, Source = "chat", Day = DateOnly.FromDateTime(now), PromptTokens = 1, CompletionTokens = 1 });
            return await db.SaveChangesAsync();
        });
        var error = (await app.Router.RunAsync(seeded.Ask(tier: Tier.Pro, userId: "pro-returning"))).RouterError;
        Assert.Equal(RouterError.QuotaExceeded, error.Error);
    }

    [Fact]
    public void Every_tier_is_unlimited_unless_configured()
    {
        var defaults = new QuotaOptions();
        Assert.All(Enum.GetValues<Tier>(), tier =>
        {
            var limits = defaults.For(tier);
            Assert.Null(limits.RequestsPerMinute);
            Assert.Null(limits.MessagesPerDay);
            Assert.Null(limits.TokensPerDay);
        });
    }
}
