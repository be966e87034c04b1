using System.Globalization;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Sync;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Sync;

/// <summary>Every sync run writes one ModelChange per model it touched, with exact before/after, and nothing for the rest.</summary>
public sealed class ModelHistoryTests(SyncAppFactory app) : IClassFixture<SyncAppFactory>, IAsyncLifetime
{
    MockUpstreamServer _mock = null!;

    public async Task InitializeAsync() => _mock = await MockUpstreamServer.StartAsync(o => o.ModelCount = 378);
    public async Task DisposeAsync() => await _mock.DisposeAsync();

    async Task<SyncRun> SyncAsync(int providerId)
    {
        using var scope = app.Services.CreateScope();
        return (await scope.ServiceProvider.GetRequiredService<ModelSync>().SyncAsync(providerId, "test", CancellationToken.None)).Run!;
    }

    Task<List<ModelChange>> ChangesAsync(long runId) =>
        app.WithDbAsync(db => db.ModelChanges.AsNoTracking().Where(c => c.SyncRunId == runId).ToListAsync());

    Task<Dictionary<string, AiModel>> ModelsAsync(int providerId) =>
        app.WithDbAsync(db => db.Models.AsNoTracking().Where(m => m.ProviderId == providerId).ToDictionaryAsync(m => m.ModelId));

    [Fact]
    public async Task A_first_sync_records_every_model_as_added_by_its_run()
    {
        var (provider, _) = await app.AddProviderAsync(_mock.OpenRouterUrl, ModelListShape.OpenRouter);

        var run = await SyncAsync(provider.Id);

        var changes = await ChangesAsync(run.Id);
        Assert.Equal(378, changes.Count);
        Assert.All(changes, c =>
        {
            Assert.Equal(ModelChangeKind.Added, c.Kind);
            Assert.Equal(provider.Id, c.ProviderId);
            Assert.Null(c.Changes);
        });
        Assert.Equal((await ModelsAsync(provider.Id)).Values.Select(m => m.Id).Order(), changes.Select(c => c.ModelId).Order());
    }

    [Fact]
    public async Task A_changed_list_records_added_changed_with_exact_before_and_after_and_removed_and_nothing_for_unchanged_models()
    {
        var (provider, _) = await app.AddProviderAsync(_mock.OpenRouterUrl, ModelListShape.OpenRouter);
        await SyncAsync(provider.Id);
        var before = await ModelsAsync(provider.Id);
        var oldList = _mock.State.Models.ToDictionary(m => m.OpenRouterId);

        _mock.State.Mutate();
        var run = await SyncAsync(provider.Id);

        var newList = _mock.State.Models.ToDictionary(m => m.OpenRouterId);
        var after = await ModelsAsync(provider.Id);
        var changes = (await ChangesAsync(run.Id)).ToDictionary(c => c.ModelId);
        var o = _mock.State.Options;
        Assert.Equal(o.AddedPerGeneration + o.ChangedPerGeneration + o.RemovedPerGeneration, changes.Count); // unchanged: no row

        var added = newList.Keys.Except(oldList.Keys).ToList();
        Assert.Equal(o.AddedPerGeneration, added.Count);
        Assert.All(added, id => Assert.Equal(ModelChangeKind.Added, changes[after[id].Id].Kind));

        var removed = oldList.Keys.Except(newList.Keys).ToList();
        Assert.Equal(o.RemovedPerGeneration, removed.Count);
        Assert.All(removed, id => Assert.Equal(ModelChangeKind.Removed, changes[before[id].Id].Kind));

        var changed = newList.Values.Where(m => oldList.TryGetValue(m.OpenRouterId, out var old) && old != m).ToList();
        Assert.Equal(o.ChangedPerGeneration, changed.Count);
        foreach (var now in changed)
        {
            var old = oldList[now.OpenRouterId];
            var row = before[now.OpenRouterId];
            var change = changes[row.Id];
            Assert.Equal(ModelChangeKind.Changed, change.Kind);
            var fields = ModelDiff.FromJson(change.Changes).ToDictionary(f => f.Field);
            if (now.ContextLength != old.ContextLength)
            {
                Assert.Equal(["context window"], fields.Keys);
                Assert.Equal(Text(old.ContextLength), fields["context window"].Before);
                Assert.Equal(Text(old.ContextLength + 8_192), fields["context window"].After);
            }
            else if (now.Name != old.Name)
            {
                Assert.Equal(["name"], fields.Keys);
                Assert.Equal(row.DisplayName, fields["name"].Before);
                Assert.Equal(row.DisplayName + " (rev 1)", fields["name"].After);
                Assert.Equal(after[now.OpenRouterId].DisplayName, fields["name"].After);
            }
            else
            {
                // The mock adds $0.50 to the input and $1 to the output price per million tokens.
                Assert.Equal(["input price per 1M tokens", "output price per 1M tokens"], fields.Keys.Order());
                Assert.Equal(row.InputPricePerMTok, decimal.Parse(fields["input price per 1M tokens"].Before!, CultureInfo.InvariantCulture));
                Assert.Equal(row.InputPricePerMTok + 0.5m, decimal.Parse(fields["input price per 1M tokens"].After!, CultureInfo.InvariantCulture));
                Assert.Equal(row.OutputPricePerMTok, decimal.Parse(fields["output price per 1M tokens"].Before!, CultureInfo.InvariantCulture));
                Assert.Equal(row.OutputPricePerMTok + 1m, decimal.Parse(fields["output price per 1M tokens"].After!, CultureInfo.InvariantCulture));
            }
        }
        Assert.All(changes.Values, c => Assert.Equal(run.Id, c.SyncRunId));
        Assert.All(changes.Values.Where(c => c.Kind != ModelChangeKind.Changed), c => Assert.Null(c.Changes));
    }

    [Fact]
    public async Task A_model_listed_again_after_removal_is_recorded_as_returned()
    {
        var (provider, _) = await app.AddProviderAsync(_mock.OpenRouterUrl, ModelListShape.OpenRouter);
        await SyncAsync(provider.Id);
        var full = _mock.State.Models.Select(m => m.OpenRouterId).ToHashSet();

        _mock.State.SetModelCount(370);
        var removing = await SyncAsync(provider.Id);
        var gone = full.Except(_mock.State.Models.Select(m => m.OpenRouterId)).ToList();
        _mock.State.SetModelCount(378);
        var returning = await SyncAsync(provider.Id);

        var rows = await ModelsAsync(provider.Id);
        var goneIds = gone.Select(id => rows[id].Id).Order().ToList();
        Assert.Equal(8, goneIds.Count);
        var removals = await ChangesAsync(removing.Id);
        Assert.All(removals, c => Assert.Equal(ModelChangeKind.Removed, c.Kind));
        Assert.Equal(goneIds, removals.Select(c => c.ModelId).Order());
        var returns = await ChangesAsync(returning.Id);
        Assert.All(returns, c => Assert.Equal(ModelChangeKind.Returned, c.Kind));
        Assert.Equal(goneIds, returns.Select(c => c.ModelId).Order());
        Assert.All(gone, id => Assert.True(rows[id].Available));
    }

    [Fact]
    public async Task An_unchanged_resync_records_nothing()
    {
        var (provider, _) = await app.AddProviderAsync(_mock.OpenRouterUrl, ModelListShape.OpenRouter);
        await SyncAsync(provider.Id);

        var again = await SyncAsync(provider.Id);

        Assert.Equal(378, again.Unchanged);
        Assert.Empty(await ChangesAsync(again.Id));
    }

    [Theory]
    [InlineData("500")]
    [InlineData("garbage")]
    public async Task A_failed_sync_records_no_change(string fault)
    {
        var secret = "sk-test-history-" + Guid.NewGuid().ToString("N");
        var (provider, _) = await app.AddProviderAsync(_mock.OpenAIUrl, secret: secret);
        await SyncAsync(provider.Id);
        var countBefore = await app.WithDbAsync(db => db.ModelChanges.CountAsync(c => c.ProviderId == provider.Id));
        _mock.State.Mutate();
        _mock.State.SetKeyFault(secret, fault);

        var failed = await SyncAsync(provider.Id);

        Assert.Equal(SyncRunStatus.Failed, failed.Status);
        Assert.Empty(await ChangesAsync(failed.Id));
        Assert.Equal(countBefore, await app.WithDbAsync(db => db.ModelChanges.CountAsync(c => c.ProviderId == provider.Id)));
    }

    static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
