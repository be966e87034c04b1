using System.Diagnostics;
using System.Reflection;

namespace Aggregator.GatewayBench;

/// <summary>
/// Target (c): the real app, from its Release build output, in its own process, on the embedded SQLite database
/// <see cref="BenchSeed"/> prepared, with the product's own appsettings.json (logging included). Only what a bench
/// needs is set from outside: where the data lives, the secrets key, no demo, no scheduled sync, and tier quotas
/// that are checked on every request but set too high to refuse. Nothing in the product knows it is benchmarked.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    const string ReadyText = "Aggregator is ready. Open ";
    readonly Process _process;
    readonly string _dataFolder;
    readonly Queue<string> _lastLines = new();

    GatewayProcess(Process process, string dataFolder)
    {
        _process = process;
        _dataFolder = dataFolder;
    }

    public string BaseUrl { get; private set; } = "";

    public static async Task<GatewayProcess> StartAsync(BenchSetup setup, CancellationToken ct)
    {
        var dll = AppDll();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        var env = start.Environment;
        env["ASPNETCORE_ENVIRONMENT"] = "Production";
        env["DOTNET_ENVIRONMENT"] = "Production";
        env["ConnectionStrings__Postgres"] = "";
        env["ConnectionStrings__Redis"] = "";
        env["Data__Folder"] = setup.DataFolder;
        env["Secrets__Key"] = setup.SecretsKey;
        env["Demo__Enabled"] = "false";
        env["Sync__SchedulerEnabled"] = "false";
        env["Admin__Email"] = "nobody-admin@example.invalid";
        env["Quotas__Max__RequestsPerMinute"] = "100000000";
        env["Quotas__Max__MessagesPerDay"] = "100000000";
        env["Quotas__Max__TokensPerDay"] = "100000000000";

        var process = Process.Start(start) ?? throw new InvalidOperationException("The gateway did not start.");
        var gateway = new GatewayProcess(process, setup.DataFolder);
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Both pipes are drained for the whole run: a full pipe would block the app's logging, and so its requests.
        process.OutputDataReceived += (_, e) => gateway.Observe(e.Data, ready);
        process.ErrorDataReceived += (_, e) => gateway.Observe(e.Data, ready);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _ = process.WaitForExitAsync(CancellationToken.None).ContinueWith(_ =>
            ready.TrySetException(new InvalidOperationException($"The gateway exited (code {process.ExitCode}):\n{gateway.LastLines()}")), TaskScheduler.Default);

        try
        {
            gateway.BaseUrl = await ready.Task.WaitAsync(TimeSpan.FromSeconds(120), ct);
        }
        catch
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw;
        }
        return gateway;
    }

    void Observe(string? line, TaskCompletionSource<string> ready)
    {
        if (line is null) return;
        lock (_lastLines)
        {
            _lastLines.Enqueue(line);
            if (_lastLines.Count > 40) _lastLines.Dequeue();
        }
        var at = line.IndexOf(ReadyText, StringComparison.Ordinal);
        if (at >= 0) ready.TrySetResult(line[(at + ReadyText.Length)..].Trim().Replace("localhost", "127.0.0.1").TrimEnd('/'));
    }

    string LastLines()
    {
        lock (_lastLines) return string.Join('\n', _lastLines);
    }

    /// <summary>Aggregator.Web.dll of the same configuration as this driver (bench.sh builds both in Release).</summary>
    static string AppDll()
    {
        var configuration = typeof(GatewayProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Aggregator.sln"))) continue;
            var dll = Path.Combine(dir.FullName, "Aggregator.Web", "bin", configuration, "net10.0", "Aggregator.Web.dll");
            return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} is missing: build Aggregator.Web -c {configuration} first (./bench.sh gateway does).");
        }
        throw new InvalidOperationException("Aggregator.sln not found above " + AppContext.BaseDirectory);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        try { Directory.Delete(_dataFolder, recursive: true); } catch (IOException) { }
    }
}
