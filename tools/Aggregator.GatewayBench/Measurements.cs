using System.Diagnostics;

namespace Aggregator.GatewayBench;

/// <summary>
/// Every latency of one target in one mode, across all its rounds. Percentiles come from the sorted list of all
/// samples, so they are exact (no histogram buckets).
/// </summary>
public sealed class Measurements
{
    readonly Lock _lock = new();
    readonly List<long> _latencies = [];
    readonly List<long> _firstBytes = [];
    TimeSpan _elapsed;

    public int Errors { get; private set; }
    public string? FirstError { get; private set; }
    public int Count => _latencies.Count;
    public double RequestsPerSecond => _elapsed > TimeSpan.Zero ? Count / _elapsed.TotalSeconds : 0;

    /// <param name="latency">Stopwatch ticks from sending to the last body byte.</param>
    /// <param name="firstByte">Stopwatch ticks from sending to the first body byte.</param>
    public void Add(long latency, long firstByte)
    {
        lock (_lock)
        {
            _latencies.Add(latency);
            _firstBytes.Add(firstByte);
        }
    }

    public void Error(string message)
    {
        lock (_lock)
        {
            Errors++;
            FirstError ??= message;
        }
    }

    public void AddElapsed(TimeSpan elapsed) => _elapsed += elapsed;

    /// <summary>Milliseconds from sending to the end of the body, at percentile <paramref name="p"/> (0–100).</summary>
    public double Latency(double p) => Percentile(_latencies, p);

    /// <summary>Milliseconds from sending to the first byte of the body.</summary>
    public double FirstByte(double p) => Percentile(_firstBytes, p);

    static double Percentile(List<long> ticks, double p)
    {
        if (ticks.Count == 0) return double.NaN;
        ticks.Sort();
        // Nearest rank: the smallest sample with at least p% of the samples at or below it.
        var rank = (int)Math.Ceiling(p / 100 * ticks.Count);
        return ticks[Math.Clamp(rank - 1, 0, ticks.Count - 1)] * 1000.0 / Stopwatch.Frequency;
    }
}
