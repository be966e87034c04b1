using Aggregator.Web.Cluster;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Admin;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Health;

/// <summary>What one pass of the keeper did.</summary>
public sealed record KeeperPass(int Hidden, int Shown, int Probed);

/// <summary>
/// The cluster's leader, once a tick: hides models failing for their provider's <see cref="Provider.AutoHideFailingMinutes"/>
/// (<see cref="AiModel.HealthHiddenAt"/>, never the admin's own Hidden flag), brings hidden ones back once they serve again,
/// and probes (<see cref="HealthProbe"/>) quiet models of providers that asked for it. Hiding and showing are tracked saves
/// with an audit entry, so the catalogue is invalidated on every node by the committed-changes mechanism.
/// "Failing since" is read from the rows (the first failed request after the last served one), not kept in memory, so a
/// new leader judges exactly as the old one did.
/// </summary>
public sealed partial class HealthKeeper(
    IServiceScopeFactory scopes,
    ModelHealthBoard board,
    HealthProbe probe,
    IOptions<HealthOptions> options,
    TimeProvider time,
    ILeaderLease leader,
    ILogger<HealthKeeper> log) : BackgroundService
{
    readonly SemaphoreSlim _passing = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.KeeperEnabled) return;
        using var timer = new PeriodicTimer(options.Value.KeeperTick, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!leader.IsLeader) continue;
            try { await PassAsync(stoppingToken); }
            catch (Exception ex) when (ex is not OperationCanceledException) { LogPassFailed(ex); }
        }
    }

    /// <summary>One pass on fresh figures: hide, bring back, then probe (probe results count from the next pass).</summary>
    public async Task<KeeperPass> PassAsync(CancellationToken cancellationToken)
    {
        await _passing.WaitAsync(cancellationToken);
        try
        {
            var health = await board.RefreshAsync(cancellationToken);
            var (hidden, shown) = await HideAndReturnAsync(health, cancellationToken);
            var probed = await probe.ProbeQuietModelsAsync(health, cancellationToken);
            return new KeeperPass(hidden, shown, probed);
        }
        finally
        {
            _passing.Release();
        }
    }

    async Task<(int Hidden, int Shown)> HideAndReturnAsync(HealthBoard health, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var audit = scope.ServiceProvider.GetRequiredService<AuditLog>();

        var failing = health.Models.Values.Where(h => h.Status == HealthStatus.Failing).Select(h => h.ModelId).ToList();
        var candidates = failing.Count == 0 ? [] : await db.Models.Include(m => m.Provider)
            .Where(m => failing.Contains(m.Id) && m.HealthHiddenAt == null && m.Provider!.AutoHideFailingMinutes != null)
            .ToListAsync(ct);
        var hidden = 0;
        foreach (var model in candidates)
        {
            var since = await FailingSinceAsync(db, model.Id, now, ct);
            if (since is null || now - since.Value < TimeSpan.FromMinutes(model.Provider!.AutoHideFailingMinutes!.Value)) continue;
            model.HealthHiddenAt = now;
            audit.Record("model.health-hide", "model", model,
                $"{model.ModelId}: hidden: failing since {since.Value:yyyy-MM-dd HH:mm:ss} UTC ({health.Of(model.Id).Summary()})");
            LogHidden(model.ModelId, model.ProviderId, since.Value);
            hidden++;
        }

        var shown = 0;
        foreach (var model in await db.Models.Include(m => m.Provider).Where(m => m.HealthHiddenAt != null).ToListAsync(ct))
        {
            string reason;
            if (model.Provider!.AutoHideFailingMinutes is null) reason = "auto-hide turned off for its provider";
            else if (await ServingAgainSinceAsync(db, model.Id, model.HealthHiddenAt!.Value, ct) is { } back)
                reason = $"healthy since {back:yyyy-MM-dd HH:mm:ss} UTC";
            else continue;
            audit.Record("model.health-show", "model", model,
                $"{model.ModelId}: shown again: {reason} (hidden at {model.HealthHiddenAt:yyyy-MM-dd HH:mm:ss} UTC)");
            model.HealthHiddenAt = null;
            LogShown(model.ModelId, model.ProviderId);
            shown++;
        }
        if (hidden + shown > 0) await db.SaveChangesAsync(ct);
        return (hidden, shown);
    }

    /// <summary>The first failed request (or interrupted reply) after the model's last served one in the last day; null: not failing.</summary>
    static async Task<DateTime?> FailingSinceAsync(AppDbContext db, long modelId, DateTime now, CancellationToken ct)
    {
        var after = await db.Usage.Where(u => u.ModelId == modelId && u.CreatedAt >= now.AddDays(-1)
                                             && (u.Outcome == UsageOutcome.Complete || u.Outcome == UsageOutcome.Stopped))
                        .MaxAsync(u => (DateTime?)u.CreatedAt, ct)
                    ?? now.AddDays(-1);
        var failed = await db.UpstreamErrors.Where(e => e.ModelId == modelId && e.RequestFailed && e.CreatedAt > after)
            .MinAsync(e => (DateTime?)e.CreatedAt, ct);
        var interrupted = await db.Usage.Where(u => u.ModelId == modelId && u.Outcome == UsageOutcome.Interrupted && u.CreatedAt > after)
            .MinAsync(u => (DateTime?)u.CreatedAt, ct);
        return failed is null ? interrupted : interrupted is null ? failed : failed < interrupted ? failed : interrupted;
    }

    /// <summary>
    /// When a hidden model served <see cref="HealthOptions.RecoverAfterSuccesses"/> requests in a row since it was hidden
    /// (counted from its last failure): the first of them; null while it has not.
    /// </summary>
    async Task<DateTime?> ServingAgainSinceAsync(AppDbContext db, long modelId, DateTime hiddenAt, CancellationToken ct)
    {
        var lastFailed = await db.UpstreamErrors.Where(e => e.ModelId == modelId && e.RequestFailed && e.CreatedAt >= hiddenAt)
            .MaxAsync(e => (DateTime?)e.CreatedAt, ct);
        var lastInterrupted = await db.Usage.Where(u => u.ModelId == modelId && u.Outcome == UsageOutcome.Interrupted && u.CreatedAt >= hiddenAt)
            .MaxAsync(u => (DateTime?)u.CreatedAt, ct);
        var from = new[] { hiddenAt, lastFailed ?? hiddenAt, lastInterrupted ?? hiddenAt }.Max();
        var served = await db.Usage.Where(u => u.ModelId == modelId && u.CreatedAt > from
                                               && (u.Outcome == UsageOutcome.Complete || u.Outcome == UsageOutcome.Stopped))
            .OrderBy(u => u.CreatedAt).Select(u => u.CreatedAt).Take(options.Value.RecoverAfterSuccesses).ToListAsync(ct);
        return served.Count >= options.Value.RecoverAfterSuccesses ? served[0] : null;
    }

    [LoggerMessage(LogLevel.Error, "Model health keeper pass failed")]
    partial void LogPassFailed(Exception ex);

    [LoggerMessage(LogLevel.Warning, "Model {Model} of provider {ProviderId} hidden: failing since {Since:u}")]
    partial void LogHidden(string model, int providerId, DateTime since);

    [LoggerMessage(LogLevel.Information, "Model {Model} of provider {ProviderId} shown again")]
    partial void LogShown(string model, int providerId);
}
