using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Sync;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Sync;

public sealed class ModelSyncTests(SyncAppFactory app) : IClassFixture<SyncAppFactory>, IAsyncLifetime
{
    MockUpstreamServer _mock = null!;

    public async Task InitializeAsync() => _mock = await MockUpstreamServer.StartAsync(o => o.ModelCount = 378);
    public async Task DisposeAsync() => await _mock.DisposeAsync();

    async Task<SyncResult> SyncAsync(int providerId)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<ModelSync>().SyncAsync(providerId, "test", CancellationToken.None);
    }

    [Fact]
    public async Task First_sync_stores_all_378_models_with_provider_metadata()
    {
        var (provider, _) = await app.AddProviderAsync(_mock.OpenRouterUrl, ModelListShape.OpenRouter);
        var result = await SyncAsync(provider.Id);

        Assert.Equal(SyncOutcome.Succeeded, result.Outcome);
        Assert.Equal(378, result.Run!.Added);
        Assert.Equal(378, await app.AvailableModelsAsync(provider.Id));
        var withContext = await app.WithDbAsync(db => db.Models.CountAsync(m => m.ProviderId == provider.Id && m.ContextWindow != null));
        Assert.True(withContext > 300, $"OpenRouter metadata should give context windows, got {withContext}");
        Assert.Equal(ModelListShape.OpenRouter, (await app.WithDbAsync(db => db.Providers.SingleAsync(p => p.Id == provider.Id))).ListShape);
    }

    [Fact]
    public async Task Unchanged_resync_writes_zero_model_rows()
    {
        var (provider, _) = await app.AddProviderAsync(_mock.BaseUrl + "/aihubmix/v1", modelsUrl: _mock.BaseUrl + "/aihubmix/api/v1/models");
        Assert.Equal(378, (await SyncAsync(provider.Id)).Run!.Added);
        var before = await app.RowVersionsAsync(provider.Id);

        var again = await SyncAsync(provider.Id);

        Assert.Equal((0, 0, 0, 378), (again.Run!.Added, again.Run.Updated, again.Run.Removed, again.Run.Unchanged));
        Assert.Equal(before, await app.RowVersionsAsync(provider.Id));
    }

    [Fact]
    public async Task Added_changed_and_removed_models_are_counted_exactly_and_removed_ones_kept_unavailable()
    {
        var (provider, _) = await app.AddProviderAsync(_mock.OpenRouterUrl, ModelListShape.OpenRouter);
        await SyncAsync(provider.Id);
        var before = await app.RowVersionsAsync(provider.Id);

        _mock.State.Mutate();
        var run = (await SyncAsync(provider.Id)).Run!;

        var o = _mock.State.Options;
        Assert.Equal(o.AddedPerGeneration, run.Added);
        Assert.Equal(o.ChangedPerGeneration, run.Updated);
        Assert.Equal(o.RemovedPerGeneration, run.Removed);
        Assert.Equal(378 - o.RemovedPerGeneration - o.ChangedPerGeneration, run.Unchanged);
        var after = await app.RowVersionsAsync(provider.Id);
        Assert.Equal(378 + o.AddedPerGeneration, after.Count); // removed rows are not deleted
        Assert.Equal(o.ChangedPerGeneration + o.RemovedPerGeneration, before.Count(kv => after[kv.Key] != kv.Value));
        Assert.Equal(378 + o.AddedPerGeneration - o.RemovedPerGeneration, await app.AvailableModelsAsync(provider.Id));
    }

    [Fact]
    public async Task Anthropic_list_is_followed_across_pages()
    {
        var (provider, _) = await app.AddProviderAsync(_mock.BaseUrl + "/anthropic/v1", ModelListShape.Anthropic, ApiStandard.Anthropic);
        var run = (await SyncAsync(provider.Id)).Run!;
        Assert.Null(run.Error);
        var upstreamCount = _mock.State.Received.Count(r => r.Path.EndsWith("/anthropic/v1/models", StringComparison.Ordinal));
        Assert.True(run.Added > 0);
        Assert.All(await app.WithDbAsync(db => db.Models.Where(m => m.ProviderId == provider.Id).Select(m => m.ModelId).ToListAsync()),
            id => Assert.StartsWith("claude", id, StringComparison.Ordinal));
        Assert.True(upstreamCount >= 1);
    }

    [Fact]
    public async Task Transient_503_is_retried_then_succeeds()
    {
        var secret = "sk-test-flaky-" + Guid.NewGuid().ToString("N");
        var (provider, _) = await app.AddProviderAsync(_mock.BaseUrl + "/openai/v1", secret: secret);
        _mock.State.SetKeyFault(secret, "503");
        var recover = Task.Run(async () =>
        {
            while (_mock.State.CountFor(secret) < 2) await Task.Delay(5);
            _mock.State.ClearKeyFault(secret);
        });

        var result = await SyncAsync(provider.Id);
        await recover;

        Assert.Equal(SyncOutcome.Succeeded, result.Outcome);
        Assert.True(result.Run!.Attempts >= 3, $"expected retries, got {result.Run.Attempts} attempt(s)");
        Assert.Equal(378, result.Run.Added);
    }

    [Fact]
    public async Task Invalid_key_fails_at_once_and_marks_the_key()
    {
        var secret = "sk-test-revoked-" + Guid.NewGuid().ToString("N");
        var (provider, key) = await app.AddProviderAsync(_mock.BaseUrl + "/openai/v1", secret: secret);
        _mock.State.SetKeyFault(secret, "401");

        var result = await SyncAsync(provider.Id);

        Assert.Equal(SyncOutcome.Failed, result.Outcome);
        Assert.Equal(1, result.Run!.Attempts);
        Assert.Contains("401", result.Run.Error);
        var stored = await app.WithDbAsync(db => db.ApiKeys.SingleAsync(k => k.Id == key.Id));
        Assert.False(stored.Active);
        Assert.Contains("401", stored.DisabledReason);
        Assert.DoesNotContain(secret, stored.DisabledReason);
    }

    [Fact]
    public async Task A_list_that_is_not_json_fails_readably_and_leaves_stored_models_untouched()
    {
        var secret = "sk-test-garbage-" + Guid.NewGuid().ToString("N");
        var (provider, _) = await app.AddProviderAsync(_mock.BaseUrl + "/openai/v1", secret: secret);
        await SyncAsync(provider.Id);
        var before = await app.RowVersionsAsync(provider.Id);
        _mock.State.SetKeyFault(secret, "garbage");

        var result = await SyncAsync(provider.Id);

        Assert.Equal(SyncOutcome.Failed, result.Outcome);
        Assert.Contains("not JSON", result.Run!.Error);
        Assert.Equal(before, await app.RowVersionsAsync(provider.Id));
        Assert.Equal(378, await app.AvailableModelsAsync(provider.Id));
    }

    [Fact]
    public async Task Concurrent_sync_requests_make_one_run()
    {
        var (provider, _) = await app.AddProviderAsync(_mock.OpenRouterUrl, ModelListShape.OpenRouter);
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => SyncAsync(provider.Id))));

        Assert.Equal(1, results.Count(r => r.Outcome == SyncOutcome.Succeeded));
        Assert.All(results.Where(r => r.Outcome != SyncOutcome.Succeeded), r => Assert.Equal(SyncOutcome.AlreadyRunning, r.Outcome));
        Assert.Equal(1, await app.WithDbAsync(db => db.SyncRuns.CountAsync(r => r.ProviderId == provider.Id)));
        Assert.Equal(378, await app.AvailableModelsAsync(provider.Id));
    }

    [Fact]
    public async Task A_list_of_20000_models_syncs()
    {
        await using var big = await MockUpstreamServer.StartAsync(o => o.ModelCount = 20_000);
        var (provider, _) = await app.AddProviderAsync(big.OpenRouterUrl, ModelListShape.OpenRouter);
        var run = (await SyncAsync(provider.Id)).Run!;
        Assert.Null(run.Error);
        Assert.Equal(20_000, run.Added);
        Assert.Equal(20_000, await app.AvailableModelsAsync(provider.Id));
    }
}
