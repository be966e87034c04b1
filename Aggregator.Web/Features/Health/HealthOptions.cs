using System.ComponentModel.DataAnnotations;

namespace Aggregator.Web.Features.Health;

/// <summary>Live model health: how often figures are recomputed and where the status lines are drawn (section "Health").</summary>
public sealed class HealthOptions
{
    public const string Section = "Health";

    /// <summary>How old the figures may be before a reader triggers a recomputation (it is served the old ones meanwhile).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")] public TimeSpan Refresh { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Failing: a success rate below this over the last hour…</summary>
    [Range(0.0, 1.0)] public double FailingBelow { get; set; } = 0.5;
    /// <summary>…over at least this many requests (fewer are not evidence enough to call a model failing).</summary>
    [Range(1, 1000)] public int FailingMinRequests { get; set; } = 3;
    /// <summary>Degraded: a success rate below this over the last hour…</summary>
    [Range(0.0, 1.0)] public double DegradedBelow { get; set; } = 0.9;
    /// <summary>…or a median time to first token above this.</summary>
    [Range(1, 600_000)] public int SlowFirstTokenMs { get; set; } = 10_000;

    /// <summary>How often the cluster's leader looks for models to hide, bring back or probe.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")] public TimeSpan KeeperTick { get; set; } = TimeSpan.FromMinutes(1);
    public bool KeeperEnabled { get; set; } = true;
    /// <summary>Probes sent per tick at most, across all providers.</summary>
    [Range(0, 100)] public int ProbesPerTick { get; set; } = 3;
    /// <summary>A model hidden for failing is probed again after this (a visible one only when it has had no traffic for an hour).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")] public TimeSpan HiddenProbeInterval { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>A hidden model comes back after this many served requests in a row since it was hidden (or since its last failure).</summary>
    [Range(1, 100)] public int RecoverAfterSuccesses { get; set; } = 1;
}
