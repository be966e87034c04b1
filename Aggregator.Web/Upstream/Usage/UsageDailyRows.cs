using Aggregator.Web.Data;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>
/// Folds a batch of usage rows and upstream errors into <see cref="UsageDaily"/> sums, written by
/// <see cref="UsageRecorder"/> in the transaction that inserts the rows themselves (so the sums always equal the rows).
/// </summary>
internal static class UsageDailyRows
{
    readonly record struct Key(DateOnly Day, string UserId, int ProviderId, long ModelId, long ApiKeyId, long ApiTokenId, string Source);

    public static long ToNanoUsd(decimal? usd) => usd is { } d ? (long)decimal.Round(d * 1_000_000_000m, MidpointRounding.AwayFromZero) : 0;

    public static List<UsageDaily> Fold(IEnumerable<UsageRecord> usage, IEnumerable<UpstreamError> errors)
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
        return [.. sums.Values];
    }
}
