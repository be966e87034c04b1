using System.ComponentModel.DataAnnotations;

namespace Aggregator.Web.Upstream.Routing;

/// <summary>Failover and deadlines of one routed request (section <c>Router</c>).</summary>
public sealed class RouterOptions
{
    public const string Section = "Router";

    /// <summary>Upstream attempts per request, across keys and fallback providers, before giving up.</summary>
    [Range(1, 20)] public int MaxAttempts { get; set; } = 5;

    /// <summary>Time allowed from the request to its first token, failover included.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")] public TimeSpan FirstTokenDeadline { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>One attempt's time to the first streamed event (a hanging upstream moves on to the next key).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:30:00")] public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>Longest silence between two events once streaming (comments do not count as events).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:30:00")] public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Overall deadline of a stream: an endless upstream is cut here.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "06:00:00")] public TimeSpan StreamDeadline { get; set; } = TimeSpan.FromMinutes(10);

    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")] public TimeSpan BackoffBase { get; set; } = TimeSpan.FromMilliseconds(100);
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")] public TimeSpan BackoffMax { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>Longest Retry-After the router waits for when every key is cooling down; longer fails fast.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")] public TimeSpan MaxRetryAfterWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Cap on the bytes read from one upstream response (a runaway body fails instead of exhausting memory).</summary>
    [Range(1024, 1L << 31)] public long MaxResponseBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Cap on a non-streamed (JSON) body, which is buffered whole.</summary>
    [Range(1024, 1L << 30)] public int MaxBufferedBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>max_tokens sent to Anthropic when neither the request nor the model says (the API requires one).</summary>
    [Range(1, 1_000_000)] public int DefaultAnthropicMaxTokens { get; set; } = 4096;

    [Required] public string AnthropicVersion { get; set; } = "2023-06-01";

    /// <summary>How long the resolution snapshot (models, providers, keys) is trusted before a background reload.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")] public TimeSpan SnapshotLifetime { get; set; } = TimeSpan.FromSeconds(30);
}
