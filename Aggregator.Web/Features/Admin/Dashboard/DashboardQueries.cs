using System.Linq.Expressions;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Admin.Dashboard;

/// <summary>
/// The dashboard's figures. Periods of days read <see cref="UsageDaily"/> (a few rows per day and user, model and key,
/// however many requests there were); periods of hours read the usage rows and failed-request rows themselves, which
/// the CreatedAt indexes keep cheap for two days. Both give the same sums: the daily rows are written with the rows.
/// </summary>
public sealed class DashboardQueries(AppDbContext db)
{
    /// <summary>Requests, tokens, cost and errors per bucket, every bucket of the period included (zeros where nothing happened).</summary>
    public async Task<IReadOnlyList<SeriesPoint>> SeriesAsync(DashboardFilter filter, DashboardRange range, CancellationToken ct)
    {
        var sums = await SumAsync(filter, range,
            d => new { d.Day, Hour = 0 }, u => new { u.Day, u.CreatedAt.Hour }, e => new { e.Day, e.CreatedAt.Hour },
            UsageDimension.Total, b => new { b.Day, Hour = 0 }, ct);
        var byStart = sums.ToDictionary(s => s.Key.Day.ToDateTime(new TimeOnly(s.Key.Hour, 0), DateTimeKind.Utc), s => s.Value);
        return [.. range.Buckets().Select(at => new SeriesPoint(at, range.Label(at), byStart.GetValueOrDefault(at, UsageTotals.Zero)))];
    }

    /// <summary>Users by tokens used (then requests), with their e-mail addresses.</summary>
    public async Task<IReadOnlyList<TopRow>> TopUsersAsync(DashboardFilter filter, DashboardRange range, int count, CancellationToken ct)
    {
        var sums = await SumAsync(filter, range, d => d.UserId, u => u.UserId, e => e.UserId!, UsageDimension.User, b => b.UserId, ct);
        var top = Top(sums, count);
        var ids = top.Select(t => t.Key).ToList();
        var emails = await db.Users.AsNoTracking().Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Email ?? u.Id, ct);
        return [.. top.Select(t => new TopRow(t.Key, emails.GetValueOrDefault(t.Key, "(deleted user)"), t.Value))];
    }

    /// <summary>Models by tokens used (then requests), by the name the catalogue shows.</summary>
    public async Task<IReadOnlyList<TopRow>> TopModelsAsync(DashboardFilter filter, DashboardRange range, int count, CancellationToken ct)
    {
        var sums = await SumAsync(filter, range, d => d.ModelId, u => u.ModelId ?? 0, e => e.ModelId ?? 0, UsageDimension.Model, b => b.Id, ct);
        var top = Top(sums, count);
        var names = await ModelNamesAsync(top.Select(t => t.Key), ct);
        return [.. top.Select(t => new TopRow(t.Key.ToString(), names.GetValueOrDefault(t.Key, t.Key == 0 ? "(no model)" : "(deleted model)"), t.Value))];
    }

    /// <summary>Every key the filter covers (deleted ones only if they served in the period), with its error rate and its state now.</summary>
    public async Task<IReadOnlyList<KeyRow>> KeysAsync(DashboardFilter filter, DashboardRange range, Func<long, KeyHealthNow?> liveState, CancellationToken ct)
    {
        var requests = await SumAsync(filter, range, d => d.ApiKeyId, u => u.ApiKeyId ?? 0, e => e.ApiKeyId ?? 0, UsageDimension.Key, b => b.Id, ct);
        var failed = await Errors(filter, range, requestFailed: true).Where(e => e.UserId != null)
            .GroupBy(e => e.ApiKeyId ?? 0).Select(g => new { g.Key, Count = g.LongCount() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var attempts = await Errors(filter, range, requestFailed: false)
            .GroupBy(e => e.ApiKeyId ?? 0).Select(g => new { g.Key, Count = g.LongCount() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var used = requests.Keys.Concat(attempts.Keys).Where(id => id != 0).ToList();
        var keys = await db.ApiKeys.AsNoTracking()
            .Where(k => (k.DeletedAt == null || used.Contains(k.Id))
                        && (filter.ProviderId == null || k.ProviderId == filter.ProviderId)
                        && (filter.KeyId == null || k.Id == filter.KeyId))
            .OrderBy(k => k.Provider!.DisplayName).ThenBy(k => k.Name)
            .Select(k => new { k.Id, k.Name, k.MaskedHint, Provider = k.Provider!.DisplayName, k.Active, k.CooldownUntil, k.DisabledReason })
            .ToListAsync(ct);
        var now = DateTime.UtcNow;
        return [.. keys.Select(k =>
        {
            // This node's pool knows cooldowns not yet written to the row; the row is the fallback (a key the pool has not loaded).
            var live = liveState(k.Id) ?? new KeyHealthNow(k.Active, k.CooldownUntil, k.DisabledReason);
            var state = !live.Active ? KeyState.Disabled : live.CooldownUntil > now ? KeyState.Cooling : KeyState.Active;
            var served = requests.GetValueOrDefault(k.Id, UsageTotals.Zero).Requests - failed.GetValueOrDefault(k.Id);
            return new KeyRow(k.Id, k.Name, k.MaskedHint, k.Provider, served, attempts.GetValueOrDefault(k.Id), state,
                state == KeyState.Cooling ? live.CooldownUntil : null, live.Active ? null : live.DisabledReason);
        })];
    }

    /// <summary>Replies streaming now, cluster-wide (every node writes its streaming replies to the same table).</summary>
    public async Task<(int Count, IReadOnlyList<LiveGeneration> Oldest)> LiveGenerationsAsync(int count, CancellationToken ct)
    {
        var streaming = db.Messages.AsNoTracking().Where(m => m.Status == MessageStatus.Streaming);
        var total = await streaming.CountAsync(ct);
        var rows = total == 0 ? [] : await streaming.OrderBy(m => m.CreatedAt).Take(count)
            .Select(m => new LiveGeneration(m.Id, db.Users.Where(u => u.Id == m.Conversation!.UserId).Select(u => u.Email).FirstOrDefault(),
                m.ModelName, m.CreatedAt, m.OwnerNode))
            .ToListAsync(ct);
        return (total, rows);
    }

    /// <summary>Each provider's last sync run and the next one the scheduler will start (as <see cref="Upstream.Sync.SyncScheduler"/> decides it).</summary>
    public async Task<IReadOnlyList<SyncStatus>> SyncStatusAsync(TimeSpan failureBackoff, bool schedulerEnabled, CancellationToken ct)
    {
        var rows = await db.Providers.AsNoTracking().OrderBy(p => p.DisplayName)
            .Select(p => new
            {
                p.Id, p.DisplayName, p.Enabled, p.LastSyncedAt, p.SyncIntervalMinutes,
                HasKey = p.Keys.Any(k => k.Active && k.DeletedAt == null),
                Last = db.SyncRuns.Where(r => r.ProviderId == p.Id).OrderByDescending(r => r.StartedAt).FirstOrDefault(),
                FailuresInARow = db.SyncRuns.Count(r => r.ProviderId == p.Id && r.Status == SyncRunStatus.Failed
                    && r.Id > (db.SyncRuns.Where(s => s.ProviderId == p.Id && s.Status == SyncRunStatus.Succeeded).Max(s => (long?)s.Id) ?? 0)),
            })
            .ToListAsync(ct);
        return [.. rows.Select(p => new SyncStatus(p.Id, p.DisplayName, p.Enabled, p.Last?.StartedAt, p.Last?.Status,
            p.Last?.Added ?? 0, p.Last?.Updated ?? 0, p.Last?.Removed ?? 0, p.Last?.Unchanged ?? 0, p.Last?.Error,
            schedulerEnabled && p.Enabled && p.HasKey && p.SyncIntervalMinutes > 0
                ? Upstream.Sync.SyncScheduler.NextDue(p.LastSyncedAt, p.Last?.StartedAt, p.FailuresInARow, TimeSpan.FromMinutes(p.SyncIntervalMinutes), failureBackoff)
                : null))];
    }

    /// <summary>
    /// What the filter lists offer: providers, keys, the catalogue's models and the users, by name (at most
    /// <see cref="MaxChoices"/> each, plus the one chosen). Read from those tables, not from the usage: a distinct over
    /// 90 days of daily rows cost more than every chart together.
    /// </summary>
    public async Task<DashboardChoices> ChoicesAsync(DashboardFilter filter, CancellationToken ct)
    {
        var providers = await db.Providers.AsNoTracking().OrderBy(p => p.DisplayName).Select(p => new Choice(p.Id.ToString(), p.DisplayName)).ToListAsync(ct);
        var keys = await db.ApiKeys.AsNoTracking().Where(k => k.DeletedAt == null).OrderBy(k => k.Provider!.DisplayName).ThenBy(k => k.Name)
            .Select(k => new Choice(k.Id.ToString(), k.Provider!.DisplayName + " · " + k.Name + " (" + k.MaskedHint + ")")).ToListAsync(ct);
        var models = await db.Models.AsNoTracking()
            .Where(m => (m.Available && (filter.ProviderId == null || m.ProviderId == filter.ProviderId)) || m.Id == filter.ModelId)
            .OrderBy(m => m.DisplayNameOverride ?? m.DisplayName).ThenBy(m => m.Id).Take(MaxChoices)
            .Select(m => new Choice(m.Id.ToString(), (m.DisplayNameOverride ?? m.DisplayName) + " (" + m.Provider!.DisplayName + ")")).ToListAsync(ct);
        var users = await db.Users.AsNoTracking().Where(u => u.Email != null || u.Id == filter.UserId)
            .OrderBy(u => u.Id == filter.UserId ? 0 : 1).ThenBy(u => u.Email).Take(MaxChoices)
            .Select(u => new Choice(u.Id, u.Email ?? u.Id)).ToListAsync(ct);
        return new DashboardChoices(providers, models, keys, users);
    }

    const int MaxChoices = 500;

    async Task<Dictionary<long, string>> ModelNamesAsync(IEnumerable<long> ids, CancellationToken ct)
    {
        var wanted = ids.Where(id => id != 0).ToList();
        if (wanted.Count == 0) return [];
        return await db.Models.AsNoTracking().Where(m => wanted.Contains(m.Id))
            .Select(m => new { m.Id, Name = (m.DisplayNameOverride ?? m.DisplayName) + " (" + m.Provider!.DisplayName + ")" })
            .ToDictionaryAsync(m => m.Id, m => m.Name, ct);
    }

    static List<KeyValuePair<TKey, UsageTotals>> Top<TKey>(Dictionary<TKey, UsageTotals> sums, int count) where TKey : notnull =>
        [.. sums.OrderByDescending(s => s.Value.Tokens).ThenByDescending(s => s.Value.Requests).Take(count)];

    /// <summary>
    /// Sums per key of one grouping, from the per-dimension daily sums (periods of days, when the view filters on at most
    /// the one thing it groups by), the daily rows (other periods of days) or the usage rows plus the failed requests
    /// (periods of hours). The selectors name the same grouping in each table; <paramref name="grouping"/> is the dimension
    /// <paramref name="by"/> groups on (<see cref="UsageDimension.Total"/>: by day only).
    /// </summary>
    async Task<Dictionary<TKey, UsageTotals>> SumAsync<TKey>(DashboardFilter filter, DashboardRange range,
        Expression<Func<UsageDaily, TKey>> daily, Expression<Func<UsageRecord, TKey>> row, Expression<Func<UpstreamError, TKey>> failedRequest,
        UsageDimension grouping, Expression<Func<UsageDailyBy, TKey>> by, CancellationToken ct) where TKey : notnull
    {
        if (!range.Hourly)
            return ByDimension(filter, range, grouping) is { } coarse
                ? await SumsAsync(coarse.GroupBy(by), ct)
                : await SumsAsync(Daily(filter, range).GroupBy(daily), ct);

        var served = await Rows(filter, range).GroupBy(row)
            .Select(g => new
            {
                g.Key, Requests = g.LongCount(), Interrupted = g.LongCount(u => u.Outcome == UsageOutcome.Interrupted),
                Prompt = g.Sum(u => (long)u.PromptTokens), Completion = g.Sum(u => (long)u.CompletionTokens), Cost = g.Sum(u => u.CostUsd ?? 0m),
            })
            .ToDictionaryAsync(g => g.Key, g => new UsageTotals(g.Requests, g.Interrupted, g.Prompt, g.Completion, g.Cost), ct);
        var failed = await Errors(filter, range, requestFailed: true).Where(e => e.UserId != null).GroupBy(failedRequest)
            .Select(g => new { g.Key, Count = g.LongCount() }).ToListAsync(ct);
        foreach (var f in failed)
            served[f.Key] = served.GetValueOrDefault(f.Key, UsageTotals.Zero) + new UsageTotals(f.Count, f.Count, 0, 0, 0m);
        return served;
    }

    static Task<Dictionary<TKey, UsageTotals>> SumsAsync<TKey, T>(IQueryable<IGrouping<TKey, T>> groups, CancellationToken ct)
        where TKey : notnull where T : UsageSums =>
        groups.Select(g => new
            {
                g.Key, Requests = g.Sum(d => d.Requests), Errors = g.Sum(d => d.Errors),
                Prompt = g.Sum(d => d.PromptTokens), Completion = g.Sum(d => d.CompletionTokens), Cost = g.Sum(d => d.CostNanoUsd),
            })
            .ToDictionaryAsync(g => g.Key, g => new UsageTotals(g.Requests, g.Errors, g.Prompt, g.Completion, g.Cost / 1_000_000_000m), ct);

    /// <summary>
    /// The per-dimension sums that answer the view, or null: a series (grouped by day) with no filter or one filter, a
    /// grouping by user, model or key with no filter. With a million usage rows spread over every user × model × key, the
    /// daily rows are nearly as many as the usage rows; these are a few thousand for 90 days.
    /// </summary>
    IQueryable<UsageDailyBy>? ByDimension(DashboardFilter f, DashboardRange range, UsageDimension grouping)
    {
        var filters = (f.ProviderId is null ? 0 : 1) + (f.ModelId is null ? 0 : 1) + (f.KeyId is null ? 0 : 1) + (f.UserId is { Length: > 0 } ? 1 : 0);
        var q = db.UsageDailyBy.AsNoTracking().Where(b => b.Day >= range.FirstDay && b.Day <= range.LastDay);
        if (filters == 0) return q.Where(b => b.Dimension == grouping);
        if (filters > 1 || grouping != UsageDimension.Total) return null;
        if (f.ProviderId is { } p) return q.Where(b => b.Dimension == UsageDimension.Provider && b.Id == p);
        if (f.ModelId is { } m) return q.Where(b => b.Dimension == UsageDimension.Model && b.Id == m);
        if (f.KeyId is { } k) return q.Where(b => b.Dimension == UsageDimension.Key && b.Id == k);
        var user = f.UserId!;
        return q.Where(b => b.Dimension == UsageDimension.User && b.UserId == user);
    }

    IQueryable<UsageDaily> Daily(DashboardFilter f, DashboardRange range)
    {
        var q = db.UsageDaily.AsNoTracking().Where(d => d.Day >= range.FirstDay && d.Day <= range.LastDay);
        if (f.ProviderId is { } p) q = q.Where(d => d.ProviderId == p);
        if (f.ModelId is { } m) q = q.Where(d => d.ModelId == m);
        if (f.KeyId is { } k) q = q.Where(d => d.ApiKeyId == k);
        if (f.UserId is { Length: > 0 } u) q = q.Where(d => d.UserId == u);
        return q;
    }

    /// <summary>The usage rows of the view (also what the CSV export writes).</summary>
    internal IQueryable<UsageRecord> Rows(DashboardFilter f, DashboardRange range)
    {
        var q = db.Usage.AsNoTracking().Where(u => u.CreatedAt >= range.Start && u.CreatedAt < range.End);
        if (f.ProviderId is { } p) q = q.Where(u => u.ProviderId == p);
        if (f.ModelId is { } m) q = q.Where(u => u.ModelId == m);
        if (f.KeyId is { } k) q = q.Where(u => u.ApiKeyId == k);
        if (f.UserId is { Length: > 0 } user) q = q.Where(u => u.UserId == user);
        return q;
    }

    /// <summary>Failed requests (<paramref name="requestFailed"/>) or failed attempts of the view.</summary>
    internal IQueryable<UpstreamError> Errors(DashboardFilter f, DashboardRange range, bool requestFailed)
    {
        var q = db.UpstreamErrors.AsNoTracking().Where(e => e.RequestFailed == requestFailed && e.CreatedAt >= range.Start && e.CreatedAt < range.End);
        if (f.ProviderId is { } p) q = q.Where(e => e.ProviderId == p);
        if (f.ModelId is { } m) q = q.Where(e => e.ModelId == m);
        if (f.KeyId is { } k) q = q.Where(e => e.ApiKeyId == k);
        if (f.UserId is { Length: > 0 } user) q = q.Where(e => e.UserId == user);
        return q;
    }
}

/// <summary>A key's state as the key pool knows it now.</summary>
public sealed record KeyHealthNow(bool Active, DateTime? CooldownUntil, string? DisabledReason);

public sealed record Choice(string Value, string Label);

public sealed record DashboardChoices(IReadOnlyList<Choice> Providers, IReadOnlyList<Choice> Models, IReadOnlyList<Choice> Keys, IReadOnlyList<Choice> Users);
