using System.Globalization;

namespace Aggregator.GatewayBench;

/// <summary>What one driver run measures; parsed from <c>--name value</c> pairs.</summary>
public sealed record BenchOptions
{
    public int Seconds { get; init; } = 5;
    public int Rounds { get; init; } = 2;
    public int WarmupSeconds { get; init; } = 2;
    public int Concurrency { get; init; } = 32;
    /// <summary>Requests per second, open loop; null runs closed loop at <see cref="Concurrency"/>.</summary>
    public int? Rate { get; init; }
    public int ReplyTokens { get; init; } = 20;
    public string Model { get; init; } = "gpt-4o";
    /// <summary>Fixed port for the in-process mock, so a gateway can be configured with it as a provider.</summary>
    public int MockPort { get; init; }
    /// <summary>A gateway already running, or <c>none</c>; null (the default) starts the app itself as target (c).</summary>
    public string? Gateway { get; init; }
    public string? Token { get; init; }
    /// <summary>The model id as the gateway names it (e.g. <c>openai/gpt-4o</c>); defaults to <see cref="Model"/>.</summary>
    public string? GatewayModel { get; init; }
    /// <summary>Which targets to load, by letter (<c>abc</c>); fewer is for profiling one of them alone.</summary>
    public string Targets { get; init; } = "abc";
    /// <summary>Which bodies to send: <c>both</c>, <c>plain</c> or <c>stream</c>.</summary>
    public string Modes { get; init; } = "both";

    public const string Usage = """
        Usage: ./bench.sh gateway [--seconds 5] [--rounds 2] [--warmup 2] [--concurrency 32 | --rate 500]
                                  [--tokens 20] [--model gpt-4o] [--modes both|plain|stream] [--targets abc] [--mock-port 0]
                                  [--gateway none | http://127.0.0.1:PORT --token agg-… [--gateway-model openai/gpt-4o]]
        Targets, alternating: (a) the mock upstream, (b) a bare HttpClient forwarder, (c) the app's /v1/chat/completions:
        started by the driver (Release build, fresh embedded SQLite) unless --gateway names a running one (or none).
        """;

    public static BenchOptions Parse(string[] args)
    {
        if (args.Length % 2 != 0) throw new ArgumentException("Options come in --name value pairs.");
        var options = new BenchOptions();
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = args[i + 1];
            options = args[i] switch
            {
                "--seconds" => options with { Seconds = Positive(args[i], value) },
                "--rounds" => options with { Rounds = Positive(args[i], value) },
                "--warmup" => options with { WarmupSeconds = int.Parse(value, CultureInfo.InvariantCulture) },
                "--concurrency" => options with { Concurrency = Positive(args[i], value) },
                "--rate" => options with { Rate = Positive(args[i], value) },
                "--tokens" => options with { ReplyTokens = Positive(args[i], value) },
                "--model" => options with { Model = value },
                "--targets" when value.Length > 0 && value.All(c => c is 'a' or 'b' or 'c') => options with { Targets = value },
                "--modes" when value is "both" or "plain" or "stream" => options with { Modes = value },
                "--mock-port" => options with { MockPort = int.Parse(value, CultureInfo.InvariantCulture) },
                "--gateway" => options with { Gateway = value.TrimEnd('/') },
                "--token" => options with { Token = value },
                "--gateway-model" => options with { GatewayModel = value },
                _ => throw new ArgumentException($"Unknown option or value: {args[i]} {value}"),
            };
        }
        if (options.Gateway is not (null or "none") && options.Token is null) throw new ArgumentException("--gateway needs --token.");
        return options;
    }

    static int Positive(string name, string value) =>
        int.TryParse(value, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{name} must be a positive integer.");
}
