namespace Aggregator.Web.Features.Admin.Dashboard;

/// <summary>
/// Sums over usage for one bucket, user, model or key. <see cref="Requests"/> counts served requests and failed ones;
/// <see cref="Errors"/> counts failed requests and interrupted replies (as <see cref="Data.UsageDaily"/> does).
/// </summary>
public sealed record UsageTotals(long Requests, long Errors, long PromptTokens, long CompletionTokens, decimal CostUsd)
{
    public static readonly UsageTotals Zero = new(0, 0, 0, 0, 0m);
    public long Tokens => PromptTokens + CompletionTokens;

    public static UsageTotals operator +(UsageTotals a, UsageTotals b) => new(
        a.Requests + b.Requests, a.Errors + b.Errors, a.PromptTokens + b.PromptTokens, a.CompletionTokens + b.CompletionTokens, a.CostUsd + b.CostUsd);
}

/// <summary>One bucket of the charts: an hour or a UTC day.</summary>
public sealed record SeriesPoint(DateTime At, string Label, UsageTotals Totals);

/// <summary>A row of the top users or top models.</summary>
public sealed record TopRow(string Id, string Name, UsageTotals Totals);

public enum KeyState { Active, Cooling, Disabled }

/// <summary>
/// One key over the period: requests it served, attempts on it that failed (the failover loop may have served
/// those requests with another key), and its state now.
/// </summary>
public sealed record KeyRow(
    long KeyId, string Name, string MaskedHint, string Provider, long Served, long FailedAttempts,
    KeyState State, DateTime? CooldownUntil, string? DisabledReason)
{
    /// <summary>Failed attempts over all attempts on the key (served ones and failed ones); null without any.</summary>
    public double? ErrorRate => Served + FailedAttempts == 0 ? null : (double)FailedAttempts / (Served + FailedAttempts);
}

/// <summary>A reply streaming now, on any node.</summary>
public sealed record LiveGeneration(long MessageId, string? User, string? Model, DateTime StartedAt, string? Node);

/// <summary>A provider's last model sync and when the scheduler runs the next one.</summary>
public sealed record SyncStatus(
    int ProviderId, string Provider, bool Enabled, DateTime? LastRunAt, Data.SyncRunStatus? Result,
    int Added, int Updated, int Removed, int Unchanged, string? Error, DateTime? NextDue);
