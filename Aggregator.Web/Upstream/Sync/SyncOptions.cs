using System.ComponentModel.DataAnnotations;

namespace Aggregator.Web.Upstream.Sync;

public sealed class SyncOptions
{
    public const string Section = "Sync";

    /// <summary>Retries of a transient failure (timeout, 429, 5xx) after the first attempt.</summary>
    [Range(0, 10)] public int MaxRetries { get; set; } = 3;
    /// <summary>First backoff delay; doubles each retry, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromMinutes(3);
    /// <summary>How often the scheduler looks for providers whose interval has passed.</summary>
    public TimeSpan SchedulerTick { get; set; } = TimeSpan.FromMinutes(1);
    public bool SchedulerEnabled { get; set; } = true;
    /// <summary>Wait after a failed scheduled sync; doubles with each failure in a row, capped at the provider's interval.</summary>
    public TimeSpan FailureBackoff { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>A model list larger than this is refused.</summary>
    [Range(1024, 1L << 31)] public long MaxListBytes { get; set; } = 64L * 1024 * 1024;
    /// <summary>
    /// A model list with more entries is refused (the sync fails, stored models stay as they are): a list of
    /// a million entries would otherwise take minutes of writes and gigabytes of memory.
    /// </summary>
    [Range(1, 10_000_000)] public int MaxModels { get; set; } = 20_000;
    /// <summary>AiHubMix prices are per this many tokens (their docs are ambiguous between 1K and 1M).</summary>
    [Range(1, 1_000_000_000)] public decimal AiHubMixPriceTokens { get; set; } = 1_000_000m;
}
