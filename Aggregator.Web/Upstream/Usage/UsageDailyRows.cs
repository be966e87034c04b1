using Aggregator.Web.Data;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>
/// Folds a batch of usage rows and upstream errors into <see cref="UsageDaily"/> and <see cref="UsageDailyBy"/> sums,
/// written by <see cref="UsageRecorder"/> in the transaction that inserts the rows themselves (so the sums always equal the rows).
/// </summary>
public static class UsageDailyRows
{
    readonly record struct Key(DateOnly Day, string UserId, int ProviderId, long ModelId, long ApiKeyId, long ApiTokenId, string Source);
    readonly record struct ByKey(DateOnly Day, UsageDimension Dimension, long Id, string UserId);

    public static long ToNanoUsd(decimal? usd) => usd is { } d ? (long)decimal.Round(d * 1_000_000_000m, MidpointRounding.AwayFromZero) : 0;

    public static (List<UsageDaily> Daily, List<UsageDailyBy> By) Fold(IEnumerable<UsageRecord> usage, IEnumerable<UpstreamError> errors)
    {
        var sums = new Dictionary<Key, UsageDaily>();
        UsageDaily At(Key key)
        {
            if (!sums.TryGetValue(key, out var day))
                sums[key] = day = new UsageDaily
                {
                    Day = key.Day, UserId = key.UserId, ProviderId = key.ProviderId, ModelId = key.ModelId,
                    ApiKeyId = key.ApiKeyId, ApiTokenId = key.ApiTokenId, Source = key.Source,
                };
            return day;
        }
        foreach (var u in usage)
        {
            var day = At(new Key(u.Day, u.UserId, u.ProviderId, u.ModelId ?? 0, u.ApiKeyId ?? 0, u.ApiTokenId ?? 0, u.Source));
            day.Requests++;
            if (u.Outcome == UsageOutcome.Interrupted) day.Errors++;
            day.PromptTokens += u.PromptTokens;
            day.CompletionTokens += u.CompletionTokens;
            day.ReasoningTokens += u.ReasoningTokens;
            day.CachedTokens += u.CachedTokens;
            day.CostNanoUsd += ToNanoUsd(u.CostUsd);
        }
        // Attempt rows are not requests (the request may have been served by another key): only request rows count.
        foreach (var e in errors)
        {
            if (!e.RequestFailed || e.UserId is null) continue;
            var day = At(new Key(e.Day, e.UserId, e.ProviderId, e.ModelId ?? 0, e.ApiKeyId ?? 0, e.ApiTokenId ?? 0, e.Source));
            day.Requests++;
            day.Errors++;
        }

        var by = new Dictionary<ByKey, UsageDailyBy>();
        void Add(ByKey key, UsageSums from)
        {
            if (!by.TryGetValue(key, out var sum))
                by[key] = sum = new UsageDailyBy { Day = key.Day, Dimension = key.Dimension, Id = key.Id, UserId = key.UserId };
            sum.Requests += from.Requests;
            sum.Errors += from.Errors;
            sum.PromptTokens += from.PromptTokens;
            sum.CompletionTokens += from.CompletionTokens;
            sum.ReasoningTokens += from.ReasoningTokens;
            sum.CachedTokens += from.CachedTokens;
            sum.CostNanoUsd += from.CostNanoUsd;
        }
        foreach (var d in sums.Values)
        {
            Add(new ByKey(d.Day, UsageDimension.Total, 0, ""), d);
            Add(new ByKey(d.Day, UsageDimension.User, 0, d.UserId), d);
            Add(new ByKey(d.Day, UsageDimension.Provider, d.ProviderId, ""), d);
            Add(new ByKey(d.Day, UsageDimension.Model, d.ModelId, ""), d);
            Add(new ByKey(d.Day, UsageDimension.Key, d.ApiKeyId, ""), d);
        }
        return ([.. sums.Values], [.. by.Values]);
    }

    /// <summary>
    /// Rebuilds <see cref="UsageDailyBy"/> from <see cref="UsageDaily"/> (same SQL on PostgreSQL and SQLite): for seeded data
    /// (the dashboard benchmark). The migration that created the table holds its own copy, as migrations must not change.
    /// </summary>
    public const string RebuildBySql = """
        DELETE FROM "UsageDailyBy";
        INSERT INTO "UsageDailyBy" ("Day", "Dimension", "Id", "UserId", "Requests", "Errors", "PromptTokens", "CompletionTokens", "ReasoningTokens", "CachedTokens", "CostNanoUsd")
        SELECT "Day", 0, 0, '', SUM("Requests"), SUM("Errors"), SUM("PromptTokens"), SUM("CompletionTokens"), SUM("ReasoningTokens"), SUM("CachedTokens"), SUM("CostNanoUsd")
        FROM "UsageDaily" GROUP BY "Day"
        UNION ALL
        SELECT "Day", 1, 0, "UserId", SUM("Requests"), SUM("Errors"), SUM("PromptTokens"), SUM("CompletionTokens"), SUM("ReasoningTokens"), SUM("CachedTokens"), SUM("CostNanoUsd")
        FROM "UsageDaily" GROUP BY "Day", "UserId"
        UNION ALL
        SELECT "Day", 2, "ProviderId", '', SUM("Requests"), SUM("Errors"), SUM("PromptTokens"), SUM("CompletionTokens"), SUM("ReasoningTokens"), SUM("CachedTokens"), SUM("CostNanoUsd")
        FROM "UsageDaily" GROUP BY "Day", "ProviderId"
        UNION ALL
        SELECT "Day", 3, "ModelId", '', SUM("Requests"), SUM("Errors"), SUM("PromptTokens"), SUM("CompletionTokens"), SUM("ReasoningTokens"), SUM("CachedTokens"), SUM("CostNanoUsd")
        FROM "UsageDaily" GROUP BY "Day", "ModelId"
        UNION ALL
        SELECT "Day", 4, "ApiKeyId", '', SUM("Requests"), SUM("Errors"), SUM("PromptTokens"), SUM("CompletionTokens"), SUM("ReasoningTokens"), SUM("CachedTokens"), SUM("CostNanoUsd")
        FROM "UsageDaily" GROUP BY "Day", "ApiKeyId";
        """;
}
