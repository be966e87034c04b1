using System.Globalization;

namespace Aggregator.GatewayBench;

/// <summary>Prints one mode's figures as a Markdown table (ready for docs/benchmarks.md) and the ratios between targets.</summary>
public static class Report
{
    public static void Print(string title, bool stream, IReadOnlyList<(Target Target, Measurements Figures)> rows)
    {
        Console.WriteLine();
        Console.WriteLine($"### {title}");
        Console.WriteLine();
        // First byte is printed for non-streamed replies too: a gap between it and the end means the body was held up.
        Console.WriteLine("| target | requests | errors | req/s | p50 ms | p99 ms | first byte p50 ms | first byte p99 ms |\n|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (target, m) in rows)
        {
            var line = $"| {target.Name} | {m.Count} | {m.Errors} | {m.RequestsPerSecond:F0} | {Ms(m.Latency(50))} | {Ms(m.Latency(99))} |";
            Console.WriteLine(line + $" {Ms(m.FirstByte(50))} | {Ms(m.FirstByte(99))} |");
        }
        Console.WriteLine();
        foreach (var (target, m) in rows.Where(r => r.Figures.FirstError is not null))
            Console.WriteLine($"- {target.Name}: first error: {m.FirstError}");

        var mock = rows.FirstOrDefault(r => r.Target.Name[0] == 'a').Figures;
        var forwarder = rows.FirstOrDefault(r => r.Target.Name[0] == 'b').Figures;
        var gateway = rows.FirstOrDefault(r => r.Target.Name[0] == 'c').Figures;
        if (mock is not null && forwarder is not null)
            Console.WriteLine($"- b/a: {Ratio(forwarder, mock)} req/s; b − a: {Added(forwarder, mock, stream)}");
        if (gateway is not null && mock is not null)
        {
            Console.WriteLine($"- c/a: {Ratio(gateway, mock)} req/s; c − a: {Added(gateway, mock, stream)} " +
                              "(targets at 500 req/s: ≤ 1 ms p50, ≤ 5 ms p99; first byte ≤ 1 ms p50)");
        }
        if (gateway is not null && forwarder is not null)
            Console.WriteLine($"- c/b: {Ratio(gateway, forwarder)} req/s (target ≥ 0.8 at 32 connections); c − b: {Added(gateway, forwarder, stream)}");
    }

    static string Ratio(Measurements over, Measurements under) =>
        (over.RequestsPerSecond / under.RequestsPerSecond).ToString("F2", CultureInfo.InvariantCulture);

    static string Added(Measurements over, Measurements under, bool stream)
    {
        var text = $"p50 {Signed(over.Latency(50) - under.Latency(50))} ms, p99 {Signed(over.Latency(99) - under.Latency(99))} ms";
        return stream ? text + $", first byte p50 {Signed(over.FirstByte(50) - under.FirstByte(50))} ms, p99 {Signed(over.FirstByte(99) - under.FirstByte(99))} ms" : text;
    }

    static string Ms(double ms) => ms.ToString("F2", CultureInfo.InvariantCulture);

    static string Signed(double ms) => ms.ToString("+0.00;−0.00;0.00", CultureInfo.InvariantCulture);
}
