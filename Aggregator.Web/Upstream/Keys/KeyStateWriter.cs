using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Upstream.Keys;

/// <summary>
/// Writes the pool's counters (last used, requests, failures) to the ApiKey rows every
/// <see cref="KeyHealthOptions.FlushInterval"/>, and state changes (disabled, cooldown) as soon as
/// they happen: the admin keys page reads these columns; no request ever waits on this.
/// </summary>
public sealed class KeyStateWriter(
    IApiKeyPool pool,
    IDbContextFactory<AppDbContext> dbFactory,
    IOptionsMonitor<KeyHealthOptions> options,
    TimeProvider time,
    ILogger<KeyStateWriter> log) : BackgroundService
{
    readonly SemaphoreSlim _writing = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await pool.WaitForChangesAsync(options.CurrentValue.FlushInterval, stoppingToken);
                await FlushAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Writing API key counters failed; retrying on the next flush");
                await Task.Delay(options.CurrentValue.FlushInterval, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try { await FlushAsync(cancellationToken); }
        catch (Exception ex) { log.LogWarning(ex, "Final write of API key counters failed"); }
    }

    /// <summary>Writes everything pending now (also used by tests and shutdown).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            var writes = pool.TakeWrites();
            if (writes.Count == 0) return;
            try
            {
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
                foreach (var w in writes)
                {
                    var rows = db.ApiKeys.Where(k => k.Id == w.KeyId);
                    if (w.WritesState)
                        await rows.ExecuteUpdateAsync(s => s
                            .SetProperty(k => k.RequestCount, k => k.RequestCount + w.RequestDelta)
                            .SetProperty(k => k.FailureCount, k => k.FailureCount + w.FailureDelta)
                            .SetProperty(k => k.LastUsedAt, k => w.LastUsedAt ?? k.LastUsedAt)
                            .SetProperty(k => k.ConsecutiveFailures, w.ConsecutiveFailures)
                            // The router may only take a key out of service; a key an admin disabled stays
                            // disabled with the admin's reason even if the pool had not reloaded yet.
                            .SetProperty(k => k.Active, k => k.Active && w.Active)
                            .SetProperty(k => k.DisabledReason, k => k.Active ? w.DisabledReason : k.DisabledReason)
                            .SetProperty(k => k.DisabledAt, k => k.Active ? w.DisabledAt : k.DisabledAt)
                            .SetProperty(k => k.CooldownUntil, w.CooldownUntil), cancellationToken);
                    else
                        await rows.ExecuteUpdateAsync(s => s
                            .SetProperty(k => k.RequestCount, k => k.RequestCount + w.RequestDelta)
                            .SetProperty(k => k.FailureCount, k => k.FailureCount + w.FailureDelta)
                            .SetProperty(k => k.LastUsedAt, k => w.LastUsedAt ?? k.LastUsedAt)
                            .SetProperty(k => k.ConsecutiveFailures, w.ConsecutiveFailures), cancellationToken);
                }
                await tx.CommitAsync(cancellationToken);
            }
            catch
            {
                pool.ReturnUnwritten(writes);
                throw;
            }
            pool.MarkWritten(writes, time.GetUtcNow().UtcDateTime);
            foreach (var w in writes.Where(w => w.WritesState))
                log.LogInformation("API key {KeyId}: active {Active}, cooldown until {CooldownUntil}, {Reason}",
                    w.KeyId, w.Active, w.CooldownUntil, w.DisabledReason ?? "no disable reason");
        }
        finally
        {
            _writing.Release();
        }
    }
}
