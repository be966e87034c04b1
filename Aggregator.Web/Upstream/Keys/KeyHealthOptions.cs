using System.ComponentModel.DataAnnotations;

namespace Aggregator.Web.Upstream.Keys;

/// <summary>When keys are cooled down, disabled and probed (section <c>KeyHealth</c>).</summary>
public sealed class KeyHealthOptions
{
    public const string Section = "KeyHealth";

    /// <summary>Failures inside <see cref="FailureWindow"/> that put a key in cooldown (one blip does not).</summary>
    [Range(1, 1000)] public int FailuresBeforeCooldown { get; set; } = 3;
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")] public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>First cooldown; each further one doubles up to <see cref="MaxCooldown"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")] public TimeSpan BaseCooldown { get; set; } = TimeSpan.FromSeconds(30);
    [Range(typeof(TimeSpan), "00:00:00.010", "7.00:00:00")] public TimeSpan MaxCooldown { get; set; } = TimeSpan.FromMinutes(30);
    /// <summary>Cooldown of a key whose account ran out of credit (insufficient_quota, 402).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "30.00:00:00")] public TimeSpan QuotaCooldown { get; set; } = TimeSpan.FromHours(6);

    /// <summary>How often keys in cooldown are re-tested with a cheap call.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")] public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(30);
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")] public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often last-used times and counters are written to the database in one batch.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")] public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(5);
}
