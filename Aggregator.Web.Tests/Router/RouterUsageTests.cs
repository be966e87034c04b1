using Aggregator.Web.Data;
using Aggregator.Web.Upstream;
using static Aggregator.Web.Tests.Router.RouterAppFactory;

namespace Aggregator.Web.Tests.Router;

/// <summary>Every completion leaves one usage row: provider numbers or a marked estimate, with cost when priced.</summary>
public class RouterUsageTests(RouterAppFactory app) : IClassFixture<RouterAppFactory>
{
    [Fact]
    public async Task Usage_row_has_the_providers_tokens_and_the_cost_from_pricing()
    {
        var seeded = await app.SeedAsync([NewSecret()], inputPrice: 2.5m, outputPrice: 10m);
        var request = seeded.Ask("Price this please") with { MessageId = 4242, Source = "api" };
        var run = await app.Router.RunAsync(request);
        run.AssertCompleted();
        var done = run.Completed!;
        Assert.False(done.Usage.Estimated);
        Assert.Equal((done.Usage.PromptTokens * 2.5m + done.Usage.CompletionTokens * 10m) / 1_000_000m, done.CostUsd);

        await app.FlushAsync();
        var row = Assert.Single(await app.UsageForAsync(request.UserId));
        Assert.Equal(done.Usage.PromptTokens, row.PromptTokens);
        Assert.Equal(done.Usage.CompletionTokens, row.CompletionTokens);
        Assert.Equal(done.CostUsd, row.CostUsd);
        Assert.Equal(seeded.KeyIds[0], row.ApiKeyId);
        Assert.Equal(seeded.ModelId, row.ModelId);
        Assert.Equal(seeded.ProviderId, row.ProviderId);
        Assert.Equal(4242, row.MessageId);
        Assert.Equal("api", row.Source);
        Assert.Equal(DateOnly.FromDateTime(DateTime.UtcNow), row.Day);
        Assert.False(row.Estimated);
    }

    [Fact]
    public async Task Unpriced_models_have_no_cost_rather_than_zero()
    {
        var seeded = await app.SeedAsync([NewSecret()]);
        var run = await app.Router.RunAsync(seeded.Ask());
        run.AssertCompleted();
        Assert.Null(run.Completed!.CostUsd);
    }

    [Fact]
    public async Task Reasoning_tokens_are_recorded()
    {
        var secret = NewSecret();
        app.Mock.State.SetKeyFault(secret, "reasoning");
        var seeded = await app.SeedAsync([secret], modelId: "deepseek-reasoner");
        var request = seeded.Ask();
        (await app.Router.RunAsync(request)).AssertCompleted();
        await app.FlushAsync();
        Assert.True(Assert.Single(await app.UsageForAsync(request.UserId)).ReasoningTokens > 0);
    }

    [Fact]
    public async Task A_client_that_cancels_stops_the_upstream_stream_and_usage_is_still_recorded()
    {
        var secret = NewSecret("cancel");
        app.Mock.State.SetKeyFault(secret, "endless");
        var seeded = await app.SeedAsync([secret]);
        var request = seeded.Ask();
        using var cts = new CancellationTokenSource();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var deltas = 0;
        var run = await app.Router.RunAsync(request, cts.Token, e =>
        {
            if (e is ContentDelta && ++deltas == 5) cts.Cancel();
            return false;
        });
        Assert.IsAssignableFrom<OperationCanceledException>(run.Error);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"cancellation took {watch.Elapsed}");
        Assert.Equal(5, run.Events.OfType<ContentDelta>().Count());

        await app.FlushAsync();
        var row = Assert.Single(await app.UsageForAsync(request.UserId));
        Assert.True(row.Estimated);
        Assert.True(row.CompletionTokens > 0);

        // The upstream request was aborted: the key's connection is free and the mock answers the next request at once.
        app.Mock.State.ClearKeyFault(secret);
        (await app.Router.RunAsync(seeded.Ask())).AssertCompleted();
    }

    [Fact]
    public async Task A_consumer_that_stops_reading_early_still_records_usage()
    {
        var seeded = await app.SeedAsync([NewSecret()]);
        var request = seeded.Ask();
        var run = await app.Router.RunAsync(request, stopWhen: e => e is ContentDelta);
        Assert.Null(run.Error);
        await app.FlushAsync();
        Assert.True(Assert.Single(await app.UsageForAsync(request.UserId)).Estimated);
    }

    [Fact]
    public async Task Failed_requests_before_any_token_record_no_usage()
    {
        var secret = NewSecret();
        app.Mock.State.SetKeyFault(secret, "500");
        var seeded = await app.SeedAsync([secret]);
        var request = seeded.Ask();
        Assert.Equal(RouterError.UpstreamFailed, (await app.Router.RunAsync(request)).RouterError.Error);
        await app.FlushAsync();
        Assert.Empty(await app.UsageForAsync(request.UserId));
    }
}
