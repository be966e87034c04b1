using Aggregator.Web.Upstream.Sync;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Sync;

public sealed class ModelSyncEdgeTests(SyncAppFactory app) : IClassFixture<SyncAppFactory>
{
    async Task<SyncResult> SyncAsync(int providerId)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<ModelSync>().SyncAsync(providerId, "test", CancellationToken.None);
    }

    [Fact]
    public async Task Duplicate_ids_in_one_list_are_stored_once_and_reported()
    {
        await using var upstream = await CannedUpstream.StartAsync("""{"object":"list","data":[{"id":"gpt-4o"},{"id":"gpt-4o"},{"id":"qwen-max"},{"id":"weird id/with:odd*chars%_"}]}""");
        var (provider, _) = await app.AddProviderAsync(upstream.BaseUrl);

        var run = (await SyncAsync(provider.Id)).Run!;

        Assert.Equal(3, run.Added);
        Assert.Contains("1 duplicate", run.Notes);
        Assert.Contains("weird id/with:odd*chars%_", await app.WithDbAsync(db => db.Models.Where(m => m.ProviderId == provider.Id).Select(m => m.ModelId).ToListAsync()));
    }

    [Fact]
    public async Task A_list_entry_that_carries_the_key_never_becomes_a_row()
    {
        const string secret = "sk-hostile-list-6f1d2c9e8b7a";
        await using var upstream = await CannedUpstream.StartAsync($$"""
            {"data":[{"id":"gpt-4o","name":"GPT-4o"},{"id":"{{secret}}","name":"x"},{"id":"leaky","name":"Key {{secret}}"}]}
            """);
        var (provider, _) = await app.AddProviderAsync(upstream.BaseUrl, secret: secret);

        var run = (await SyncAsync(provider.Id)).Run!;

        Assert.Null(run.Error);
        Assert.Contains("1 entr(ies) carrying the API key were withheld", run.Notes);
        var rows = await app.WithDbAsync(db => db.Models.Where(m => m.ProviderId == provider.Id)
            .Select(m => m.ModelId + " " + m.DisplayName + " " + m.Description).ToListAsync());
        Assert.Contains(rows, r => r.StartsWith("gpt-4o "));
        Assert.DoesNotContain(rows, r => r.Contains("6f1d2c9e8b7a"));
    }

    [Fact]
    public async Task Unknown_shape_fails_with_a_readable_error()
    {
        await using var upstream = await CannedUpstream.StartAsync("""{"items":[{"name":"x"}]}""");
        var (provider, _) = await app.AddProviderAsync(upstream.BaseUrl);

        var result = await SyncAsync(provider.Id);

        Assert.Equal(SyncOutcome.Failed, result.Outcome);
        Assert.Contains("known shape", result.Run!.Error);
    }

    [Fact]
    public async Task Unreachable_base_url_fails_with_a_readable_error_after_retries()
    {
        var (provider, _) = await app.AddProviderAsync("http://127.0.0.1:9/v1");
        var result = await SyncAsync(provider.Id);
        Assert.Equal(SyncOutcome.Failed, result.Outcome);
        Assert.Contains("Cannot reach 127.0.0.1:9", result.Run!.Error);
        Assert.True(result.Run.Attempts > 1);
    }

    [Fact]
    public async Task An_empty_list_never_wipes_stored_models()
    {
        var body = """{"object":"list","data":[{"id":"a"},{"id":"b"}]}""";
        await using var full = await CannedUpstream.StartAsync(body);
        var (provider, _) = await app.AddProviderAsync(full.BaseUrl);
        await SyncAsync(provider.Id);
        await using var empty = await CannedUpstream.StartAsync("""{"object":"list","data":[]}""");
        await app.WithDbAsync(async db =>
        {
            await db.Providers.Where(p => p.Id == provider.Id).ExecuteUpdateAsync(s => s.SetProperty(p => p.BaseUrl, empty.BaseUrl));
            return 0;
        });

        var result = await SyncAsync(provider.Id);

        Assert.Equal(SyncOutcome.Failed, result.Outcome);
        Assert.Equal(2, await app.AvailableModelsAsync(provider.Id));
    }
}
