using System.Globalization;

namespace Aggregator.StreamBench;

/// <summary>What `./bench.sh streams` runs: how many chats, how they arrive, how the mock answers, on which layouts.</summary>
public sealed record StreamBenchOptions
{
    public const string Usage = """
        Usage: ./bench.sh streams [--streams 1000] [--streams-two 2000] [--layouts one,two] [--arrival 10]
                                  [--tokens 300] [--tps 20] [--first-token-ms 500] [--timeout 120]
          --streams N        concurrent chats on one node (distinct users, one hub connection each)
          --streams-two N    concurrent chats on two nodes behind nginx (deploy/nginx.conf.template)
          --layouts          one, two or one,two
          --arrival S        the chats start spread evenly over S seconds
          --tokens/--tps     each reply's length and pace at the mock (300 at 20/s: 15 s, so all chats overlap)
          --first-token-ms   the mock's delay before the first token (subtracted from the measured first delta)
        """;

    public int Streams { get; init; } = 1000;
    public int StreamsTwo { get; init; } = 2000;
    public string[] Layouts { get; init; } = ["one", "two"];
    public double ArrivalSeconds { get; init; } = 10;
    public int Tokens { get; init; } = 300;
    public double TokensPerSecond { get; init; } = 20;
    public int FirstTokenMs { get; init; } = 500;
    public int TimeoutSeconds { get; init; } = 120;

    public static StreamBenchOptions Parse(string[] args)
    {
        var options = new StreamBenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Value(), CultureInfo.InvariantCulture);
            double Double() => double.Parse(Value(), CultureInfo.InvariantCulture);
            options = args[i] switch
            {
                "--streams" => options with { Streams = Int() },
                "--streams-two" => options with { StreamsTwo = Int() },
                "--layouts" => options with { Layouts = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--arrival" => options with { ArrivalSeconds = Double() },
                "--tokens" => options with { Tokens = Int() },
                "--tps" => options with { TokensPerSecond = Double() },
                "--first-token-ms" => options with { FirstTokenMs = Int() },
                "--timeout" => options with { TimeoutSeconds = Int() },
                _ => throw new ArgumentException($"Unknown option {args[i]}"),
            };
        }
        if (options.Layouts.Any(l => l is not ("one" or "two"))) throw new ArgumentException("--layouts takes one, two or one,two");
        return options;
    }
}
