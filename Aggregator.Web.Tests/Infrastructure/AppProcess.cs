using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Aggregator.Web.Tests.Infrastructure;

/// <summary>
/// The built Aggregator.Web.dll run by `dotnet` as a child process, exactly as in production:
/// for what only the real entry point shows (exit code, stderr, files it creates).
/// </summary>
public sealed partial class AppProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly StringBuilder _stdout = new();
    readonly StringBuilder _stderr = new();
    readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    AppProcess(Process process) => _process = process;

    public string StandardOutput { get { lock (_stdout) return _stdout.ToString(); } }
    public string StandardError { get { lock (_stderr) return _stderr.ToString(); } }

    /// <summary>Starts the app on a free loopback port with exactly these settings (as environment variables).</summary>
    public static AppProcess Start(IDictionary<string, string?> settings)
    {
        var dll = WebDll();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll },
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Nothing from the test run leaks in: only what the test says.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_") || k.Contains("__")).ToList())
            start.Environment.Remove(key);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        foreach (var (key, value) in settings) start.Environment[key.Replace(":", "__")] = value ?? "";

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var app = new AppProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (app._stdout) app._stdout.AppendLine(e.Data);
            if (Listening().Match(e.Data) is { Success: true } m) app._listening.TrySetResult(new Uri(m.Groups[1].Value));
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (app._stderr) app._stderr.AppendLine(e.Data); };
        process.Exited += (_, _) => app._listening.TrySetException(new InvalidOperationException($"The app exited ({process.ExitCode}) before listening.\nstderr:\n{app.StandardError}\nstdout:\n{app.StandardOutput}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return app;
    }

    /// <summary>Waits until the app serves; fails with its output if it exits first.</summary>
    public Task<Uri> ListeningAsync(TimeSpan? timeout = null) => _listening.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(90));

    /// <summary>Waits for the process to exit by itself and returns its exit code.</summary>
    public async Task<int> ExitCodeAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(90));
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { throw new TimeoutException($"The app did not exit.\nstderr:\n{StandardError}\nstdout:\n{StandardOutput}"); }
        _process.WaitForExit(); // flushes the redirected streams
        return _process.ExitCode;
    }

    /// <summary>SIGKILL, as when a node's machine dies: no shutdown hooks, no goodbye to anyone.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    /// <summary>Aggregator.Web's own build output (same configuration and framework as this test assembly).</summary>
    static string WebDll()
    {
        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = tfm.Parent!.Name;
        var root = tfm;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Aggregator.sln"))) root = root.Parent;
        if (root is null) throw new InvalidOperationException("Aggregator.sln not found above " + AppContext.BaseDirectory);
        var dll = Path.Combine(root.FullName, "Aggregator.Web", "bin", configuration, tfm.Name, "Aggregator.Web.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build Aggregator.Web first", dll);
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex Listening();
}
