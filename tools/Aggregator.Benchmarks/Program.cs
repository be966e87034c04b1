using Aggregator.Benchmarks;

// One subcommand per benchmark; each prints its own figures.
var commands = new Dictionary<string, Func<string[], Task>>(StringComparer.OrdinalIgnoreCase)
{
    ["sync"] = SyncBenchmark.RunAsync,
};

if (args.Length == 0 || !commands.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"Usage: ./bench.sh <{string.Join("|", commands.Keys)}>");
    return 2;
}
await run(args[1..]);
return 0;
