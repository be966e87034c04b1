using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Aggregator.Web.Upstream.Keys;

namespace Aggregator.Web.Upstream.Routing;

/// <summary>
/// Holds the current <see cref="RoutingSnapshot"/> so resolution costs a few dictionary look-ups.
/// A stale snapshot is served while a reload runs in the background; <see cref="ReloadAsync"/>
/// is the hook for admin changes (key added or disabled, provider toggled, sync finished).
/// </summary>
public sealed class RoutingTable(
    IDbContextFactory<AppDbContext> dbFactory,
    IApiKeyPool pool,
    IOptions<RouterOptions> options,
    TimeProvider time,
    ILogger<RoutingTable> log)
{
    static readonly TimeSpan MissReloadThrottle = TimeSpan.FromSeconds(1);

    volatile RoutingSnapshot _snapshot = RoutingSnapshot.Empty;
    readonly SemaphoreSlim _loadLock = new(1, 1);
    long _loadedTicks;        // time.GetTimestamp() of the last completed load
    int _backgroundReload;    // 1 while a background reload runs

    public RoutingSnapshot Current => _snapshot;

    /// <summary>The snapshot to route with: loads the first time, refreshes stale ones in the background.</summary>
    public ValueTask<RoutingSnapshot> GetAsync(CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        if (ReferenceEquals(snapshot, RoutingSnapshot.Empty))
            return new ValueTask<RoutingSnapshot>(ReloadAsync(cancellationToken));
        if (time.GetElapsedTime(Interlocked.Read(ref _loadedTicks)) > options.Value.SnapshotLifetime
            && Interlocked.CompareExchange(ref _backgroundReload, 1, 0) == 0)
        {
            _ = Task.Run(async () =>
            {
                try { await ReloadAsync(CancellationToken.None); }
                catch (Exception ex) { log.LogWarning(ex, "Background reload of the routing table failed; serving the previous one"); }
                finally { Volatile.Write(ref _backgroundReload, 0); }
            }, CancellationToken.None);
        }
        return new ValueTask<RoutingSnapshot>(snapshot);
    }

    /// <summary>Reloads unless a load finished very recently (a request named a model the snapshot does not know).</summary>
    public async Task<RoutingSnapshot> ReloadAfterMissAsync(CancellationToken cancellationToken)
    {
        if (time.GetElapsedTime(Interlocked.Read(ref _loadedTicks)) < MissReloadThrottle) return _snapshot;
        return await ReloadAsync(cancellationToken);
    }

    /// <summary>Reads models, providers and keys afresh and hands the keys to the pool.</summary>
    public async Task<RoutingSnapshot> ReloadAsync(CancellationToken cancellationToken = default)
    {
        var requestedAt = time.GetTimestamp();
        await _loadLock.WaitAsync(cancellationToken);
        try
        {
            // Someone else loaded while we waited: theirs is as fresh as ours would be.
            if (Interlocked.Read(ref _loadedTicks) > requestedAt) return _snapshot;
            var startedAt = time.GetUtcNow().UtcDateTime;
            var started = time.GetTimestamp();
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var providers = await db.Providers.AsNoTracking()
                .Select(p => new ProviderRoute(p.Id, p.Name, p.DisplayName, p.ApiStandard, p.BaseUrl, p.ModelsUrl, p.Enabled, p.AllowFallback) { Kind = p.Kind })
                .ToListAsync(cancellationToken);
            var models = await db.Models.AsNoTracking()
                .Select(m => new ModelRoute(m.Id, m.ProviderId, m.ModelId, m.DisplayNameOverride ?? m.DisplayName, m.TierRequired,
                    m.Available, m.MaxOutputTokens, m.InputPricePerMTok, m.OutputPricePerMTok) { Type = m.Type, Hidden = m.Hidden })
                .ToListAsync(cancellationToken);
            var keys = await db.ApiKeys.AsNoTracking()
                .Where(k => k.DeletedAt == null)
                .Select(k => new KeyRow(k.Id, k.ProviderId, k.EncryptedSecret, k.Active, k.CooldownUntil, k.ConsecutiveFailures, k.LastUsedAt))
                .ToListAsync(cancellationToken);
            var snapshot = new RoutingSnapshot(models, providers, keys, startedAt);
            pool.Sync(snapshot.Keys, startedAt);
            _snapshot = snapshot;
            Interlocked.Exchange(ref _loadedTicks, time.GetTimestamp());
            log.LogDebug("Routing table loaded: {Models} models, {Providers} providers, {Keys} keys in {Elapsed} ms",
                models.Count, providers.Count, keys.Count, (int)time.GetElapsedTime(started).TotalMilliseconds);
            return snapshot;
        }
        finally
        {
            _loadLock.Release();
        }
    }
}
