namespace Aggregator.Benchmarks;

// Not top-level statements: the app's own `Program` (for WebApplicationFactory<Program>) must stay unambiguous.
public static class BenchmarkMain
{
    // One subcommand per benchmark; each prints its own figures.
    static readonly Dictionary<string, Func<string[], Task>> Commands = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sync"] = SyncBenchmark.RunAsync,
        ["catalog"] = CatalogBenchmark.RunAsync,
        ["router"] = RouterBenchmark.RunAsync,
        ["dashboard"] = DashboardBenchmark.RunAsync,
    };

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || !Commands.TryGetValue(args[0], out var run))
        {
            await Console.Error.WriteLineAsync($"Usage: ./bench.sh <{string.Join("|", Commands.Keys)}>");
            return 2;
        }
        await run(args[1..]);
        return 0;
    }
}
