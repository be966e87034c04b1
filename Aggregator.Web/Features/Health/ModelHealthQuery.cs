using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Health;

/// <summary>
/// The one query behind live health: served usage rows and failed requests of the last day, grouped by model, over the
/// indexed CreatedAt. On PostgreSQL the counts and medians are computed in the database (percentile_cont, FILTER for the
/// hour); on the embedded SQLite, which has no percentile function, the day's rows (four narrow columns, single-node
/// traffic) are read and the same medians computed here with the same interpolation.
/// Probe requests count toward success and first-token time but not toward tokens per second: a one-token reply has none.
/// </summary>
public static class ModelHealthQuery
{
    public const string ProbeSource = "probe";

    sealed record Row(long ModelId, long HourRequests, long HourSucceeded, long DayRequests, long DaySucceeded,
        double? HourTtft, double? DayTtft, double? HourTps, double? DayTps);

    public static async Task<IReadOnlyDictionary<long, ModelHealth>> RunAsync(AppDbContext db, DateTime now, HealthOptions o, CancellationToken ct)
    {
        var hourAgo = now.AddHours(-1);
        var dayAgo = now.AddDays(-1);
        var rows = db is PostgresDbContext ? await OnPostgresAsync(db, hourAgo, dayAgo, ct) : await InMemoryAsync(db, hourAgo, dayAgo, ct);
        return rows.ToDictionary(r => r.ModelId, r =>
        {
            var hour = new HealthFigures((int)r.HourRequests, (int)r.HourSucceeded, r.HourTtft, r.HourTps);
            var day = new HealthFigures((int)r.DayRequests, (int)r.DaySucceeded, r.DayTtft, r.DayTps);
            return new ModelHealth(r.ModelId, hour, day, ModelHealth.Judge(hour, o));
        });
    }

    static Task<List<Row>> OnPostgresAsync(AppDbContext db, DateTime hourAgo, DateTime dayAgo, CancellationToken ct) =>
        db.Database.SqlQuery<Row>($"""
            SELECT t."ModelId",
                   COUNT(*) FILTER (WHERE t."CreatedAt" >= {hourAgo}) AS "HourRequests",
                   COUNT(*) FILTER (WHERE t."CreatedAt" >= {hourAgo} AND t."Ok") AS "HourSucceeded",
                   COUNT(*) AS "DayRequests",
                   COUNT(*) FILTER (WHERE t."Ok") AS "DaySucceeded",
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY t."Ttft") FILTER (WHERE t."CreatedAt" >= {hourAgo}) AS "HourTtft",
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY t."Ttft") AS "DayTtft",
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY t."Tps") FILTER (WHERE t."CreatedAt" >= {hourAgo}) AS "HourTps",
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY t."Tps") AS "DayTps"
            FROM (
                SELECT u."ModelId", u."CreatedAt", u."Outcome" IN (0, 1) AS "Ok",
                       u."TimeToFirstTokenMs"::double precision AS "Ttft",
                       CASE WHEN u."Source" <> {ProbeSource} AND u."CompletionTokens" > 0 AND u."DurationMs" > u."TimeToFirstTokenMs"
                            THEN u."CompletionTokens" * 1000.0::double precision / (u."DurationMs" - u."TimeToFirstTokenMs") END AS "Tps"
                FROM "Usage" u
                WHERE u."CreatedAt" >= {dayAgo} AND u."ModelId" IS NOT NULL
                UNION ALL
                SELECT e."ModelId", e."CreatedAt", FALSE, NULL, NULL
                FROM "UpstreamErrors" e
                WHERE e."RequestFailed" AND e."CreatedAt" >= {dayAgo} AND e."ModelId" IS NOT NULL
            ) t
            GROUP BY t."ModelId"
            """).ToListAsync(ct);

    static async Task<List<Row>> InMemoryAsync(AppDbContext db, DateTime hourAgo, DateTime dayAgo, CancellationToken ct)
    {
        var served = await db.Usage.AsNoTracking()
            .Where(u => u.CreatedAt >= dayAgo && u.ModelId != null)
            .Select(u => new { ModelId = u.ModelId!.Value, u.CreatedAt, u.Outcome, u.Source, u.TimeToFirstTokenMs, u.DurationMs, u.CompletionTokens })
            .ToListAsync(ct);
        var failed = await db.UpstreamErrors.AsNoTracking()
            .Where(e => e.RequestFailed && e.CreatedAt >= dayAgo && e.ModelId != null)
            .Select(e => new { ModelId = e.ModelId!.Value, e.CreatedAt })
            .ToListAsync(ct);

        var traffic = served.Select(u => (u.ModelId, u.CreatedAt, Ok: u.Outcome is UsageOutcome.Complete or UsageOutcome.Stopped,
                Ttft: (double?)u.TimeToFirstTokenMs,
                Tps: u.Source != ProbeSource && u.CompletionTokens > 0 && u.DurationMs > u.TimeToFirstTokenMs
                    ? u.CompletionTokens * 1000.0 / (u.DurationMs!.Value - u.TimeToFirstTokenMs!.Value) : (double?)null))
            .Concat(failed.Select(e => (e.ModelId, e.CreatedAt, Ok: false, Ttft: (double?)null, Tps: (double?)null)));
        return traffic.GroupBy(t => t.ModelId).Select(g =>
        {
            var hour = g.Where(t => t.CreatedAt >= hourAgo).ToList();
            return new Row(g.Key, hour.Count, hour.Count(t => t.Ok), g.Count(), g.Count(t => t.Ok),
                Median(hour.Select(t => t.Ttft)), Median(g.Select(t => t.Ttft)), Median(hour.Select(t => t.Tps)), Median(g.Select(t => t.Tps)));
        }).ToList();
    }

    /// <summary>percentile_cont(0.5): the middle value, or the mean of the two middle ones; nulls ignored.</summary>
    public static double? Median(IEnumerable<double?> values)
    {
        var sorted = values.Where(v => v.HasValue).Select(v => v!.Value).Order().ToArray();
        if (sorted.Length == 0) return null;
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
