namespace Aggregator.Web.Data;

/// <summary>How a served request ended (a <see cref="UsageRecord"/>): finished, stopped by its caller, or cut by the provider.</summary>
public enum UsageOutcome { Complete = 0, Stopped = 1, Interrupted = 2 }

/// <summary>
/// One upstream failure, for the dashboard, per-key error rates and live model health. Two kinds, never summed together:
/// an <b>attempt</b> row (<see cref="RequestFailed"/> false) for every failed try on one key — the failover loop may
/// still have served the request with another key — and a <b>request</b> row (<see cref="RequestFailed"/> true) for a
/// request its caller got an error for (every attempt failed, no usable key, a non-retryable refusal). Successes are
/// <see cref="UsageRecord"/>s. No provider text is stored (it may echo what was sent): only a class and a status.
/// </summary>
public sealed class UpstreamError
{
    public long Id { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>UTC day of <see cref="CreatedAt"/>.</summary>
    public DateOnly Day { get; set; }
    public int ProviderId { get; set; }
    public long? ModelId { get; set; }
    /// <summary>The key tried (attempt rows; the last key tried for a request row, when one was).</summary>
    public long? ApiKeyId { get; set; }
    public string? UserId { get; set; }
    public long? ApiTokenId { get; set; }
    /// <summary>chat, api, embeddings, probe: as <see cref="UsageRecord.Source"/>.</summary>
    public required string Source { get; set; }
    public bool RequestFailed { get; set; }
    /// <summary>A <see cref="Upstream.Keys.KeyFault"/> name for attempts (RateLimited, InvalidKey, ServerError, …), a <see cref="Upstream.RouterError"/> name for requests.</summary>
    public required string ErrorClass { get; set; }
    /// <summary>The provider's HTTP status, when it answered with one.</summary>
    public int? StatusCode { get; set; }
}

/// <summary>The figures every usage sum carries (<see cref="UsageDaily"/>, <see cref="UsageDailyBy"/>).</summary>
public abstract class UsageSums
{
    /// <summary>Usage rows plus failed requests (request <see cref="UpstreamError"/> rows).</summary>
    public long Requests { get; set; }
    /// <summary>Failed requests plus interrupted replies.</summary>
    public long Errors { get; set; }
    public long PromptTokens { get; set; }
    public long CompletionTokens { get; set; }
    public long ReasoningTokens { get; set; }
    public long CachedTokens { get; set; }
    /// <summary>Cost in billionths of a US dollar (exact integer sums on PostgreSQL and SQLite alike); see <see cref="CostUsd"/>.</summary>
    public long CostNanoUsd { get; set; }
    public decimal CostUsd => CostNanoUsd / 1_000_000_000m;
}

/// <summary>
/// Usage per UTC day and (user, provider, model, key, API token, source): what dashboards and usage pages read, so they
/// stay fast however many <see cref="UsageRecord"/>s there are. Written in the same transaction as the rows it sums
/// (<see cref="Upstream.Usage.UsageDailyRows"/>), so it always equals them. Absent ids are 0, not null: every column
/// is part of the key, and a unique key treats nulls as distinct.
/// </summary>
public sealed class UsageDaily : UsageSums
{
    public DateOnly Day { get; set; }
    public required string UserId { get; set; }
    public int ProviderId { get; set; }
    public long ModelId { get; set; }
    public long ApiKeyId { get; set; }
    public long ApiTokenId { get; set; }
    public required string Source { get; set; }
}

/// <summary>Which one thing a <see cref="UsageDailyBy"/> row sums over (or none: the day's total).</summary>
public enum UsageDimension { Total = 0, User = 1, Provider = 2, Model = 3, Key = 4 }

/// <summary>
/// The same sums per UTC day and ONE dimension (the day's total, each user, provider, model or key): a few thousand rows
/// for 90 days where <see cref="UsageDaily"/> may hold nearly as many rows as there were requests (every user × model ×
/// key of a day is a row). Views that filter on at most one thing read these. Written with <see cref="UsageDaily"/>.
/// </summary>
public sealed class UsageDailyBy : UsageSums
{
    public DateOnly Day { get; set; }
    public UsageDimension Dimension { get; set; }
    /// <summary>The provider, model or key id (0 for the total and for users).</summary>
    public long Id { get; set; }
    /// <summary>The user id for <see cref="UsageDimension.User"/>; "" otherwise.</summary>
    public string UserId { get; set; } = "";
}

public enum ModelChangeKind { Added = 0, Changed = 1, Removed = 2, Returned = 3 }

/// <summary>What one sync did to one model: the original design's "model version control".</summary>
public sealed class ModelChange
{
    public long Id { get; set; }
    public long ModelId { get; set; }
    public int ProviderId { get; set; }
    /// <summary>The sync run that made the change (null for changes made outside a sync).</summary>
    public long? SyncRunId { get; set; }
    public DateTime At { get; set; }
    public ModelChangeKind Kind { get; set; }
    /// <summary>For <see cref="ModelChangeKind.Changed"/>: a JSON array of {"field","before","after"}; null otherwise.</summary>
    public string? Changes { get; set; }
}
