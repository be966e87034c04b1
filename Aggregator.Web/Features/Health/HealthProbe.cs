using Aggregator.Web.Data;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Health;

/// <summary>
/// The active probe: a minimal request (one token, a tiny prompt) through the normal router and key pool, so a probe
/// fails over, cools keys and is recorded exactly as traffic is. Its rows are ordinary usage / upstream-error rows with
/// Source <see cref="ModelHealthQuery.ProbeSource"/> and no user (an empty UserId): health counts them, while every user
/// page reads by the user's id and never sees them; no quota is taken (an uncounted ticket) and no API token is charged.
/// Probed: chat models of providers with <see cref="Provider.HealthProbe"/> and no traffic in the last hour, and models
/// hidden for failing (whatever the setting: without traffic nothing else could bring them back), a few per tick.
/// </summary>
public sealed partial class HealthProbe(
    IDbContextFactory<AppDbContext> dbFactory,
    IChatRouter router,
    ITierQuotas quotas,
    IOptions<HealthOptions> options,
    TimeProvider time,
    ILogger<HealthProbe> log)
{
    const string Prompt = "Reply with one word: ok";
    static readonly TimeSpan QuietFor = TimeSpan.FromHours(1);

    // When each model was last probed by this node: rows of a probe that just ran are not in the figures yet.
    readonly Dictionary<long, DateTime> _probedAt = [];

    public async Task<int> ProbeQuietModelsAsync(HealthBoard health, CancellationToken ct)
    {
        var o = options.Value;
        if (o.ProbesPerTick == 0) return 0;
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var models = await db.Models.AsNoTracking()
            .Where(m => m.Type == ModelType.Chat && m.Available && !m.Hidden && m.Provider!.Enabled
                        && (m.Provider.HealthProbe || m.HealthHiddenAt != null))
            .Select(m => new { m.Id, m.ModelId, Hidden = m.HealthHiddenAt != null })
            .ToListAsync(ct);
        DateTime LastProbe(long id) => _probedAt.TryGetValue(id, out var at) ? at : DateTime.MinValue;
        var due = models
            .Where(m => m.Hidden
                ? now - LastProbe(m.Id) >= o.HiddenProbeInterval
                : health.Of(m.Id).Hour.Requests == 0 && now - LastProbe(m.Id) >= QuietFor)
            .OrderBy(m => LastProbe(m.Id)).ThenBy(m => m.Id)
            .Take(o.ProbesPerTick)
            .ToList();
        foreach (var model in due)
        {
            _probedAt[model.Id] = now;
            await ProbeAsync(model.Id, model.ModelId, ct);
        }
        return due.Count;
    }

    /// <summary>Sends one probe to catalogue row <paramref name="modelId"/>; true when it was served.</summary>
    public async Task<bool> ProbeAsync(long modelId, string name, CancellationToken ct)
    {
        var request = new ChatRequest(UserId: "", UserTier: Tier.Max, modelId, [new ChatTurn(MessageRole.User, Prompt)], MaxTokens: 1,
            Source: ModelHealthQuery.ProbeSource, Quota: new QuotaTicket(quotas, "", Counted: false));
        try
        {
            await foreach (var _ in router.StreamAsync(request, ct)) { }
            LogProbed(name, modelId);
            return true;
        }
        catch (RouterException ex)
        {
            LogProbeFailed(name, modelId, ex.Error);
            return false;
        }
    }

    [LoggerMessage(LogLevel.Debug, "Probe of {Model} ({ModelId}) served")]
    partial void LogProbed(string model, long modelId);

    [LoggerMessage(LogLevel.Information, "Probe of {Model} ({ModelId}) failed: {Error}")]
    partial void LogProbeFailed(string model, long modelId, RouterError error);
}
