using System.ComponentModel.DataAnnotations;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>Limits of one tier; null means unlimited.</summary>
public sealed class TierLimits
{
    [Range(1, int.MaxValue)] public int? RequestsPerMinute { get; set; }
    [Range(1, int.MaxValue)] public int? MessagesPerDay { get; set; }
    [Range(1, long.MaxValue)] public long? TokensPerDay { get; set; }
}

/// <summary>Per-tier quotas (section <c>Quotas</c>); everything unlimited unless configured.</summary>
public sealed class QuotaOptions
{
    public const string Section = "Quotas";

    public TierLimits Free { get; set; } = new();
    public TierLimits Pro { get; set; } = new();
    public TierLimits Max { get; set; } = new();

    public TierLimits For(Data.Tier tier) => tier switch
    {
        Data.Tier.Free => Free,
        Data.Tier.Pro => Pro,
        _ => Max,
    };
}
