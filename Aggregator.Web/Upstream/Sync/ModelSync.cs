using System.Diagnostics;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Telemetry;
using Aggregator.Web.Security;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Upstream.Sync;

public enum SyncOutcome { Succeeded, Failed, AlreadyRunning, NotSyncable }

/// <param name="FetchMs">Time spent fetching and parsing the upstream list (the rest is the diff and the writes).</param>
public sealed record SyncResult(SyncOutcome Outcome, SyncRun? Run, string Message, long FetchMs = 0);

/// <summary>
/// Incremental model sync of one provider: fetch the list, diff against stored rows by model id and
/// content hash, insert new, update changed, mark models gone upstream unavailable (never deleted:
/// conversations reference them), and leave unchanged rows untouched (zero writes).
/// </summary>
public sealed partial class ModelSync(
    IDbContextFactory<AppDbContext> dbFactory,
    ModelListClient lists,
    SecretBox secrets,
    SyncLock syncLock,
    CommittedChangesInterceptor committedChanges,
    TimeProvider clock,
    GatewayTelemetry telemetry,
    ILogger<ModelSync> log)
{
    /// <summary>Rows per write transaction.</summary>
    const int Batch = 500;

    public async Task<SyncResult> SyncAsync(int providerId, string trigger, CancellationToken ct)
    {
        await using var held = await syncLock.TryAcquireAsync(providerId, ct);
        if (held is null)
            return new SyncResult(SyncOutcome.AlreadyRunning, null, "A sync of this provider is already running; this request was not started.");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var provider = await db.Providers.FirstOrDefaultAsync(p => p.Id == providerId, ct);
        if (provider is null) return new SyncResult(SyncOutcome.NotSyncable, null, "No such provider.");
        if (!provider.Enabled) return new SyncResult(SyncOutcome.NotSyncable, null, $"{provider.DisplayName} is disabled.");

        var now = clock.GetUtcNow().UtcDateTime;
        var key = await db.ApiKeys
            .Where(k => k.ProviderId == providerId && k.Active && k.DeletedAt == null && (k.CooldownUntil == null || k.CooldownUntil < now))
            .OrderBy(k => k.LastUsedAt).FirstOrDefaultAsync(ct);
        if (key is null) return new SyncResult(SyncOutcome.NotSyncable, null, $"{provider.DisplayName} has no active API key.");

        // The batches below commit one by one; the catalogue and the router refresh once, when the run ends.
        await using var coalesced = committedChanges.Coalesce();
        var run = new SyncRun { ProviderId = providerId, StartedAt = now, Status = SyncRunStatus.Running, Trigger = trigger };
        db.SyncRuns.Add(run);
        await db.SaveChangesAsync(ct);
        var watch = Stopwatch.StartNew();
        long fetchMs = 0;

        try
        {
            var fetched = await lists.FetchAsync(provider, secrets.Decrypt(key.EncryptedSecret), ct);
            fetchMs = watch.ElapsedMilliseconds;
            run.Attempts = fetched.Attempts;
            await ApplyAsync(db, provider, run, fetched, ct);
            run.Status = SyncRunStatus.Succeeded;
            LogSynced(provider.Name, run.Added, run.Updated, run.Removed, run.Unchanged, watch.ElapsedMilliseconds);
        }
        catch (Exception ex) when (ex is ModelListFetchException or ModelListException)
        {
            db.ChangeTracker.Clear();
            db.Attach(run);
            run.Status = SyncRunStatus.Failed;
            run.Error = ex.Message;
            run.Attempts = ex is ModelListFetchException f ? f.Attempts : Math.Max(run.Attempts, 1);
            if (ex is ModelListFetchException { KeyRejected: true })
                await DisableKeyAsync(db, key.Id, $"401 on model sync at {now:yyyy-MM-dd HH:mm}Z: {ex.Message}", ct);
            // One line per run, from what we know (the provider's text may echo the key; the run row has the readable reason).
            var fetchFailure = ex as ModelListFetchException;
            LogSyncFailed(provider.Name, run.Attempts, fetchFailure?.Failure.ToString() ?? "EmptyList",
                fetchFailure?.Status is { } status ? $"HTTP {(int)status}" : "no HTTP status", HostOf(provider));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Unexpected (a database error): the run says so instead of staying "running"; the scheduler logs the error.
            await using var record = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            await record.SyncRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, SyncRunStatus.Failed)
                .SetProperty(r => r.Error, "The sync stopped on an internal error (see the server log).")
                .SetProperty(r => r.DurationMs, (int)watch.ElapsedMilliseconds), CancellationToken.None);
            throw;
        }
        run.DurationMs = (int)watch.ElapsedMilliseconds;
        telemetry.SyncEnded(provider.Name, run.Status, watch.Elapsed);
        // The catalogue and the router follow the committed rows by themselves (CommittedChangesInterceptor).
        await db.SaveChangesAsync(CancellationToken.None);

        return new SyncResult(run.Status == SyncRunStatus.Succeeded ? SyncOutcome.Succeeded : SyncOutcome.Failed, run,
            run.Status == SyncRunStatus.Succeeded
                ? $"Synced {provider.DisplayName}: {run.Added} added, {run.Updated} updated, {run.Removed} removed, {run.Unchanged} unchanged."
                : $"Sync of {provider.DisplayName} failed: {run.Error}", fetchMs);
    }

    async Task ApplyAsync(AppDbContext db, Provider provider, SyncRun run, FetchedModelList fetched, CancellationToken ct)
    {
        var upstream = new Dictionary<string, UpstreamModel>(fetched.Models.Count, StringComparer.Ordinal);
        var duplicates = 0;
        foreach (var m in fetched.Models)
            if (!upstream.TryAdd(m.ModelId, m)) duplicates++;

        var stored = await db.Models.AsNoTracking().Where(m => m.ProviderId == provider.Id)
            .Select(m => new StoredModel(m.Id, m.ModelId, m.ContentHash, m.Available)).ToListAsync(ct);
        if (upstream.Count == 0 && stored.Any(s => s.Available))
            throw new ModelListException("The provider returned an empty model list; the stored models were left as they are.");

        var storedById = stored.ToDictionary(s => s.ModelId, StringComparer.Ordinal);
        var now = clock.GetUtcNow().UtcDateTime;
        var changed = new Dictionary<long, (UpstreamModel Model, string Hash)>();
        var inserts = new List<AiModel>();
        foreach (var (id, model) in upstream)
        {
            var hash = model.ContentHash();
            if (!storedById.TryGetValue(id, out var row))
                inserts.Add(NewRow(provider, model, hash, now));
            else if (row.ContentHash != hash || !row.Available)
                changed[row.Id] = (model, hash);
            else
                run.Unchanged++;
        }
        var removed = stored.Where(s => s.Available && !upstream.ContainsKey(s.ModelId)).Select(s => s.Id).ToList();

        // Written in batches, each its own short transaction (and a short-lived context, so tracking stays
        // the size of one batch), never one over the whole list: on SQLite a write transaction blocks every
        // other writer (logins, chat) until it commits.
        // Each batch writes its models and their ModelChange rows (the history on the model's admin page) in one transaction.
        foreach (var batch in inserts.Chunk(Batch))
        {
            await using var batchDb = await dbFactory.CreateDbContextAsync(ct);
            await using var tx = await batchDb.Database.BeginTransactionAsync(ct);
            batchDb.Models.AddRange(batch);
            await batchDb.SaveChangesAsync(ct); // the new rows' ids, for their history
            batchDb.ModelChanges.AddRange(batch.Select(m => History(run, m.Id, ModelChangeKind.Added, now)));
            await batchDb.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        foreach (var ids in changed.Keys.Chunk(Batch))
        {
            await using var batchDb = await dbFactory.CreateDbContextAsync(ct);
            foreach (var row in await batchDb.Models.Where(m => ids.Contains(m.Id)).ToListAsync(ct))
            {
                var (model, hash) = changed[row.Id];
                var fields = ModelDiff.Between(row, model);
                // A model listed again after removal came back (with whatever changed meanwhile); a hash change
                // no shown field tells apart (a name equal to the id, say) is not worth a history row.
                if (!row.Available || fields.Count > 0)
                    batchDb.ModelChanges.Add(History(run, row.Id, row.Available ? ModelChangeKind.Changed : ModelChangeKind.Returned, now,
                        fields.Count > 0 ? ModelDiff.ToJson(fields) : null));
                Apply(row, model, hash, now);
            }
            await batchDb.SaveChangesAsync(ct);
        }
        foreach (var ids in removed.Chunk(Batch))
        {
            await using var batchDb = await dbFactory.CreateDbContextAsync(ct);
            await using var tx = await batchDb.Database.BeginTransactionAsync(ct);
            await batchDb.Models.Where(m => ids.Contains(m.Id))
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.Available, false).SetProperty(m => m.UpdatedAt, now), ct);
            batchDb.ModelChanges.AddRange(ids.Select(id => History(run, id, ModelChangeKind.Removed, now)));
            await batchDb.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }

        run.Added = inserts.Count;
        run.Updated = changed.Count;
        run.Removed = removed.Count;
        var notes = new List<string>();
        if (duplicates > 0) notes.Add($"{duplicates} duplicate id(s) in the list were ignored");
        if (fetched.Skipped > 0) notes.Add($"{fetched.Skipped} entr(ies) without a usable id were skipped");
        if (fetched.Withheld > 0) notes.Add($"{fetched.Withheld} entr(ies) carrying the API key were withheld");
        notes.Add($"list shape: {fetched.Shape}");
        run.Notes = string.Join("; ", notes) + ".";
        provider.LastSyncedAt = now;
        if (provider.ListShape == ModelListShape.Auto) provider.ListShape = fetched.Shape;
        // Not saved here: the run's figures, its final state and LastSyncedAt are written together by the caller.
    }

    static ModelChange History(SyncRun run, long modelId, ModelChangeKind kind, DateTime at, string? changes = null) => new()
    {
        ModelId = modelId, ProviderId = run.ProviderId, SyncRunId = run.Id, At = at, Kind = kind, Changes = changes,
    };

    static AiModel NewRow(Provider provider, UpstreamModel model, string hash, DateTime now)
    {
        var row = new AiModel
        {
            ProviderId = provider.Id,
            ModelId = model.ModelId,
            DisplayName = model.DisplayName,
            ContentHash = hash,
            TierRequired = provider.DefaultTier,
            FirstSeenAt = now,
        };
        Apply(row, model, hash, now);
        return row;
    }

    static void Apply(AiModel row, UpstreamModel model, string hash, DateTime now)
    {
        row.UpstreamName = model.UpstreamName;
        row.DisplayName = model.DisplayName;
        row.Description = model.Description;
        row.Type = model.Type;
        row.TypeInferred = model.TypeInferred;
        row.Capabilities = model.Capabilities;
        row.InferredCapabilities = model.InferredCapabilities;
        row.ContextWindow = model.ContextWindow;
        row.MaxOutputTokens = model.MaxOutputTokens;
        row.InputPricePerMTok = model.InputPricePerMTok;
        row.OutputPricePerMTok = model.OutputPricePerMTok;
        row.ContentHash = hash;
        row.Available = true;
        row.LastSeenAt = now;
        row.UpdatedAt = now;
    }

    // Tracked, not ExecuteUpdate: saved with the run, so the router drops the key when it commits.
    static async Task DisableKeyAsync(AppDbContext db, long keyId, string reason, CancellationToken ct)
    {
        if (await db.ApiKeys.FindAsync([keyId], ct) is not { } key) return;
        key.Active = false;
        key.DisabledReason = reason.Length > 500 ? reason[..500] : reason;
        key.DisabledAt = DateTime.UtcNow;
        key.FailureCount++;
    }

    sealed record StoredModel(long Id, string ModelId, string ContentHash, bool Available);

    [LoggerMessage(LogLevel.Information, "Synced {Provider}: {Added} added, {Updated} updated, {Removed} removed, {Unchanged} unchanged in {Ms} ms")]
    partial void LogSynced(string provider, int added, int updated, int removed, int unchanged, long ms);

    static string HostOf(Provider provider) =>
        Uri.TryCreate(ModelListClient.ListUrl(provider), UriKind.Absolute, out var url) ? url.Authority : "(invalid URL)";

    [LoggerMessage(LogLevel.Warning, "Sync of {Provider} failed after {Attempts} attempt(s): {Failure} ({Status}) from {Host}")]
    partial void LogSyncFailed(string provider, int attempts, string failure, string status, string host);
}
