using System.Diagnostics;

namespace Aggregator.GatewayBench;

/// <summary>
/// The forwarder in its own process, like the gateway: it gets its own thread pool and GC instead of sharing the
/// driver's, so (b) and (c) are measured the same way.
/// </summary>
public sealed class ForwarderProcess : IAsyncDisposable
{
    readonly Process _process;

    ForwarderProcess(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public static async Task<ForwarderProcess> StartAsync(string upstream, CancellationToken ct)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        // Run as `dotnet Aggregator.GatewayBench.dll` the host is dotnet itself, and the dll comes first.
        if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet") start.ArgumentList.Add(typeof(Forwarder).Assembly.Location);
        foreach (var arg in new[] { "forward", "--upstream", upstream }) start.ArgumentList.Add(arg);

        var process = Process.Start(start) ?? throw new InvalidOperationException("The forwarder did not start.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            if (line.StartsWith(Forwarder.ReadyLine, StringComparison.Ordinal))
                return new ForwarderProcess(process, line[Forwarder.ReadyLine.Length..]);
        throw new InvalidOperationException($"The forwarder exited (code {process.ExitCode}) before listening.");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
