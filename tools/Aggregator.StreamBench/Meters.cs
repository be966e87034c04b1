using StackExchange.Redis;

namespace Aggregator.StreamBench;

/// <summary>A node's resident memory (peak, sampled) and CPU time, read from /proc like `top` does.</summary>
public sealed class NodeMeter(NodeProcess node)
{
    const double TicksPerSecond = 100; // USER_HZ on Linux
    double _cpuAtStart;
    public NodeProcess Node => node;
    public long PeakRssBytes { get; private set; }
    public double CpuSeconds { get; private set; }

    public void Start()
    {
        _cpuAtStart = CpuNow();
        PeakRssBytes = 0;
    }

    public void Sample() => PeakRssBytes = Math.Max(PeakRssBytes, RssNow());

    public void Stop() => CpuSeconds = CpuNow() - _cpuAtStart;

    long RssNow()
    {
        var line = File.ReadLines($"/proc/{node.Pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    double CpuNow()
    {
        // Fields after the ")" of the command: state is field 3, utime 14, stime 15.
        var stat = File.ReadAllText($"/proc/{node.Pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / TicksPerSecond;
    }
}

/// <summary>PUBLISH calls the Redis server counted (INFO commandstats): the backplane and the cluster bus together.</summary>
public sealed class RedisMeter(IConnectionMultiplexer redis) : IDisposable
{
    public static RedisMeter Connect(string address) => new(ConnectionMultiplexer.Connect(address + ",allowAdmin=true"));

    public async Task<long> PublishesAsync()
    {
        var server = redis.GetServers().First();
        var stats = await server.InfoAsync("commandstats");
        var publish = stats.SelectMany(g => g).FirstOrDefault(kv => kv.Key == "cmdstat_publish").Value;
        if (publish is null) return 0;
        var calls = publish.Split(',').First(p => p.StartsWith("calls=", StringComparison.Ordinal));
        return long.Parse(calls["calls=".Length..]);
    }

    public void Dispose() => redis.Dispose();
}
