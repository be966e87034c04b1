namespace Aggregator.Benchmarks;

// Not top-level statements: those would declare a global Program clashing with Aggregator.Web's
// (WebApplicationFactory<Program>). One subcommand per benchmark, each in its own file.
public static class BenchmarkProgram
{
    public static async Task<int> Main(string[] args) => args.FirstOrDefault() switch
    {
        "catalog" => await CatalogBenchmark.RunAsync(args[1..]),
        _ => Usage(),
    };

    static int Usage()
    {
        Console.WriteLine("Usage: dotnet run -c Release --project tools/Aggregator.Benchmarks -- <benchmark> [options]");
        Console.WriteLine("  catalog [--iterations N]   warm-cache catalogue (378 and 5,000 models) and chat page render");
        return 2;
    }
}
