using System.Globalization;
using Aggregator.MockUpstream;

namespace Aggregator.StreamBench;

// `./bench.sh streams`: N concurrent chats through SignalR against the mock, on one node, then on two nodes behind nginx.
public static class StreamBenchMain
{
    public static async Task<int> Main(string[] args)
    {
        StreamBenchOptions options;
        try { options = StreamBenchOptions.Parse(args); }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            await Console.Error.WriteLineAsync(e.Message + Environment.NewLine + StreamBenchOptions.Usage);
            return 2;
        }
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        // Thousands of connections arrive at once: no waiting for the thread pool to grow one thread a second.
        ThreadPool.SetMinThreads(200, 200);
        Console.WriteLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores; replies of {options.Tokens} tokens at {options.TokensPerSecond}/s " +
                          $"after a {options.FirstTokenMs} ms first-token delay; chats arrive over {options.ArrivalSeconds} s");
        var failed = false;
        foreach (var layout in options.Layouts)
        {
            var (nodes, streams) = layout == "one" ? (1, options.Streams) : (2, options.StreamsTwo);
            failed |= !await RunLayoutAsync(nodes, streams, options);
        }
        return failed ? 1 : 0;
    }

    static async Task<bool> RunLayoutAsync(int nodes, int count, StreamBenchOptions options)
    {
        var name = nodes == 1 ? "one node" : $"{nodes} nodes behind nginx";
        Console.WriteLine($"\n## {count} streams on {name}\n");
        await using var mock = await MockUpstreamServer.StartAsync(o => o.MaxRecorded = 0);
        await using var cluster = await BenchCluster.StartAsync(nodes, count + 1, mock.OpenAIUrl); // one more user for the warm-up
        var driver = new StreamDriver(cluster, options);
        var streams = await driver.SignInAsync(count + 1);
        await driver.WarmUpAsync(streams[^1]);
        streams.RemoveAt(streams.Count - 1);
        Console.WriteLine($"{count} users signed in; nodes {string.Join(", ", cluster.Nodes.Select(n => $"{n.Name} (pid {n.Pid})"))}; entry {cluster.BaseUrl}");

        using var redis = RedisMeter.Connect(Environment.GetEnvironmentVariable("AGG_TEST_REDIS")!);
        var meters = cluster.Nodes.Select(n => new NodeMeter(n)).ToList();
        foreach (var meter in meters) meter.Start();
        var publishesBefore = await redis.PublishesAsync();
        var driverCpu = Environment.CpuUsage.TotalTime;
        var loadBefore = LoadAverage();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                foreach (var meter in meters) meter.Sample();
                try { await Task.Delay(250, sampling.Token); } catch (OperationCanceledException) { }
            }
        });
        await driver.RunAsync(streams);
        var window = driver.Clock.Elapsed;
        await sampling.CancelAsync();
        await sampler;
        foreach (var meter in meters) meter.Stop();
        var publishes = await redis.PublishesAsync() - publishesBefore;
        var driverCores = (Environment.CpuUsage.TotalTime - driverCpu).TotalSeconds / window.TotalSeconds;

        var ok = Report(streams, meters, publishes, window, options);
        // The driver (clients and mock) shares the cores with the nodes: a starved driver delays deltas too.
        Console.WriteLine($"\ndriver (clients + mock) CPU {driverCores:F2} cores; load average {loadBefore} before, {LoadAverage()} after");
        return ok;
    }

    static bool Report(List<BenchStream> streams, List<NodeMeter> meters, long publishes, TimeSpan window, StreamBenchOptions options)
    {
        var problems = streams.Select(s => (s.Index, Problem: s.Verify())).Where(p => p.Problem is not null).ToList();
        var added = streams.Where(s => s.FirstDeltaAt is not null)
            .Select(s => (s.FirstDeltaAt!.Value - s.SentAt).TotalMilliseconds - options.FirstTokenMs).Order().ToList();
        var streamSeconds = streams.Where(s => s.FirstDeltaAt is not null && s.CompletedAt is not null)
            .Sum(s => (s.CompletedAt!.Value - s.FirstDeltaAt!.Value).TotalSeconds);
        var deltas = streams.Sum(s => s.DeltaCount);
        var peak = PeakConcurrent(streams);
        double Pct(double p) => added.Count == 0 ? double.NaN : added[Math.Clamp((int)Math.Ceiling(p * added.Count) - 1, 0, added.Count - 1)];

        Console.WriteLine("| figure | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| streams completed correctly (every delta once, in order, text = final) | {streams.Count - problems.Count} of {streams.Count} |");
        Console.WriteLine($"| errors | {problems.Count} |");
        Console.WriteLine($"| peak concurrent streams | {peak} |");
        Console.WriteLine($"| run (first send → last completion) | {window.TotalSeconds:F1} s |");
        Console.WriteLine($"| added time to first delta p50 / p99 | {Pct(0.50):F0} ms / {Pct(0.99):F0} ms |");
        Console.WriteLine($"| deltas pushed per second (received by clients, run average) | {deltas / window.TotalSeconds:F0} |");
        Console.WriteLine($"| Redis PUBLISH per second (run average) | {publishes / window.TotalSeconds:F0} |");
        Console.WriteLine($"| Redis PUBLISH per stream per second | {(streamSeconds > 0 ? publishes / streamSeconds : double.NaN):F1} |");
        foreach (var meter in meters)
            Console.WriteLine($"| node {meter.Node.Name}: peak RSS / CPU (run average) | {meter.PeakRssBytes / 1048576.0:F0} MB / {meter.CpuSeconds / window.TotalSeconds:F2} cores |");
        foreach (var (index, problem) in problems.Take(5)) Console.WriteLine($"\nstream {index}: {problem}");
        return problems.Count == 0;
    }

    static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    static int PeakConcurrent(List<BenchStream> streams)
    {
        var events = streams.Where(s => s.CompletedAt is not null)
            .SelectMany(s => new[] { (At: s.SentAt, Step: 1), (At: s.CompletedAt!.Value, Step: -1) })
            .OrderBy(e => e.At).ThenBy(e => e.Step);
        int current = 0, peak = 0;
        foreach (var (_, step) in events) peak = Math.Max(peak, current += step);
        return peak;
    }
}
