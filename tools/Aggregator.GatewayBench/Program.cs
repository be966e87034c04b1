using System.Net;

namespace Aggregator.GatewayBench;

// `forward …` runs the bare forwarder (the driver starts it so in a child process); anything else runs the driver.
public static class GatewayBenchMain
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["forward", .. var forwardArgs])
        {
            await Forwarder.RunAsync(forwardArgs);
            return 0;
        }
        BenchOptions options;
        try { options = BenchOptions.Parse(args); }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            await Console.Error.WriteLineAsync(e.Message + Environment.NewLine + BenchOptions.Usage);
            return 2;
        }

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        try { await RunAsync(options, stop.Token); }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { return 130; }
        return 0;
    }

    static async Task RunAsync(BenchOptions options, CancellationToken ct)
    {
        await using var mock = await BenchMock.StartAsync(options.MockPort, options.ReplyTokens, ct);
        await using var forwarder = await ForwarderProcess.StartAsync(mock.OpenAIUrl, ct);
        List<Target> targets =
        [
            new("a mock", mock.OpenAIUrl + "/chat/completions", "bench-key", options.Model),
            new("b forwarder", forwarder.BaseUrl + "/v1/chat/completions", "bench-key", options.Model),
        ];
        await using var app = options.Gateway is null ? await StartGatewayAsync(mock, options, ct) : null;
        if (app is not null)
            targets.Add(new("c gateway", app.Process.BaseUrl + "/v1/chat/completions", app.Setup.Token, app.Setup.Model));
        else if (options.Gateway is not "none")
            targets.Add(new("c gateway", options.Gateway + "/v1/chat/completions", options.Token!, options.GatewayModel ?? options.Model));

        // The ratios need a and b; leaving targets out is for profiling one of them alone.
        targets = targets.Where(t => options.Targets.Contains(t.Name[0])).ToList();

        using var client = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        }) { Timeout = TimeSpan.FromSeconds(30) };
        var driver = new LoadDriver(client, options);

        var load = options.Rate is { } rate ? $"{rate} req/s open loop" : $"{options.Concurrency} connections";
        Console.WriteLine($"Mock upstream (a provider base URL for the gateway): {mock.OpenAIUrl}; forwarder: {forwarder.BaseUrl}" +
                          (app is null ? "" : $"; gateway (Release, embedded SQLite): {app.Process.BaseUrl}, token {app.Setup.Token} (a throwaway database), model {app.Setup.Model}"));
        Console.WriteLine($"{load}; {options.Rounds} rounds × {options.Seconds} s per target, alternating, after {options.WarmupSeconds} s warm-up; " +
                          $"reply {options.ReplyTokens} tokens; {Environment.ProcessorCount} cores");

        bool[] modes = options.Modes switch { "plain" => [false], "stream" => [true], _ => [false, true] };
        foreach (var stream in modes)
        {
            var figures = targets.Select(t => (Target: t, Figures: new Measurements())).ToList();
            foreach (var target in targets)
            {
                await driver.ProbeAsync(target, stream, ct);
                await driver.RunAsync(target, stream, TimeSpan.FromSeconds(options.WarmupSeconds), new Measurements(), ct);
            }
            // Rounds alternate the targets so a noisy neighbour on the machine hits all of them alike.
            for (var round = 0; round < options.Rounds; round++)
                foreach (var (target, into) in figures)
                    await driver.RunAsync(target, stream, TimeSpan.FromSeconds(options.Seconds), into, ct);
            Report.Print($"{(stream ? "streaming" : "non-streaming")}, {load}", stream, figures);
        }
    }

    sealed record StartedGateway(BenchSetup Setup, GatewayProcess Process) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Process.DisposeAsync();
    }

    /// <summary>Seeds a fresh embedded database and starts the real app on it, with the mock as its provider.</summary>
    static async Task<StartedGateway> StartGatewayAsync(BenchMock mock, BenchOptions options, CancellationToken ct)
    {
        var setup = await BenchSeed.CreateAsync(mock.OpenAIUrl, options.Model, ct);
        try
        {
            return new StartedGateway(setup, await GatewayProcess.StartAsync(setup, ct));
        }
        catch
        {
            Directory.Delete(setup.DataFolder, recursive: true); // started or not, a run leaves nothing behind
            throw;
        }
    }
}
