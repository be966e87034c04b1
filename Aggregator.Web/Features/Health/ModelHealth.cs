using System.Globalization;

namespace Aggregator.Web.Features.Health;

public enum HealthStatus { NoRecentTraffic = 0, Healthy = 1, Degraded = 2, Failing = 3 }

/// <summary>One model's traffic over one window: requests (served + failed), served ones, and the medians of the served ones.</summary>
/// <param name="FirstTokenMs">p50 time to first token; null when no served request measured one.</param>
/// <param name="TokensPerSecond">p50 output tokens per second after the first token; null when none could be measured.</param>
public sealed record HealthFigures(int Requests, int Succeeded, double? FirstTokenMs, double? TokensPerSecond)
{
    public static readonly HealthFigures None = new(0, 0, null, null);

    public double? SuccessRate => Requests == 0 ? null : (double)Succeeded / Requests;

    /// <summary>"98% ok · TTFT 420 ms · 55 tok/s": what the selector shows on hover or focus and the admin page in its column.</summary>
    public string Summary()
    {
        if (Requests == 0) return "no requests";
        var parts = new List<string> { $"{Percent(SuccessRate!.Value)} ok of {Requests}" };
        if (FirstTokenMs is { } ttft) parts.Add($"TTFT {Math.Round(ttft).ToString(CultureInfo.InvariantCulture)} ms");
        if (TokensPerSecond is { } tps) parts.Add($"{Math.Round(tps).ToString(CultureInfo.InvariantCulture)} tok/s");
        return string.Join(" · ", parts);
    }

    // Floor, not round: 99.6% ok must not read as 100%.
    static string Percent(double rate) => $"{Math.Floor(rate * 100).ToString(CultureInfo.InvariantCulture)}%";
}

/// <summary>A model's health: the last hour decides the status, the last day is context.</summary>
public sealed record ModelHealth(long ModelId, HealthFigures Hour, HealthFigures Day, HealthStatus Status)
{
    public static ModelHealth Quiet(long modelId) => new(modelId, HealthFigures.None, HealthFigures.None, HealthStatus.NoRecentTraffic);

    /// <summary>The status a screen reader and the selector say: "healthy", "degraded", "failing", "no recent traffic".</summary>
    public string StatusText => Text(Status);

    public static string Text(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        HealthStatus.Failing => "failing",
        _ => "no recent traffic",
    };

    /// <summary>The figures in one line, e.g. "98% ok of 120 · TTFT 420 ms · 55 tok/s, last hour".</summary>
    public string Summary() => Hour.Requests > 0
        ? $"{Hour.Summary()}, last hour"
        : Day.Requests > 0 ? $"no requests in the last hour; {Day.Summary()}, last day" : "no requests in the last day";

    /// <summary>The rule: failing, then degraded (low success or slow first token), else healthy; nothing in the hour: no recent traffic.</summary>
    public static HealthStatus Judge(HealthFigures hour, HealthOptions o)
    {
        if (hour.SuccessRate is not { } rate) return HealthStatus.NoRecentTraffic;
        if (hour.Requests >= o.FailingMinRequests && rate < o.FailingBelow) return HealthStatus.Failing;
        if (rate < o.DegradedBelow || hour.FirstTokenMs > o.SlowFirstTokenMs) return HealthStatus.Degraded;
        return HealthStatus.Healthy;
    }
}

/// <summary>Every model's health at one moment; a model missing from it had no traffic in the last day.</summary>
public sealed record HealthBoard(DateTime At, IReadOnlyDictionary<long, ModelHealth> Models)
{
    public static readonly HealthBoard Empty = new(DateTime.MinValue, new Dictionary<long, ModelHealth>());

    public ModelHealth Of(long modelId) => Models.TryGetValue(modelId, out var health) ? health : ModelHealth.Quiet(modelId);
}

/// <summary>What the admin models page's Health column shows for one model.</summary>
public sealed record HealthCell(ModelHealth Health, DateTime? HiddenAt);
