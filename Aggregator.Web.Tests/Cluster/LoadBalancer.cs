using System.Diagnostics;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>
/// nginx (installed by test.sh) with deploy/nginx.conf.template filled in: its own folder for pid, logs
/// and temp files, run in the foreground as this process's child so disposing stops exactly it.
/// </summary>
public sealed class LoadBalancer : IAsyncDisposable
{
    readonly Process _nginx;
    readonly string _folder;

    LoadBalancer(Process nginx, string folder, int port)
    {
        _nginx = nginx;
        _folder = folder;
        BaseUrl = new Uri($"http://127.0.0.1:{port}/");
    }

    public Uri BaseUrl { get; }

    public string ErrorLog => File.Exists(Path.Combine(_folder, "error.log")) ? File.ReadAllText(Path.Combine(_folder, "error.log")) : "";

    public static async Task<LoadBalancer> StartAsync(string nodeA, string nodeB)
    {
        var folder = Directory.CreateTempSubdirectory("aggregator-nginx-").FullName;
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101); // workers (nobody) use their temp folders
        var port = FreePort.Next();
        var config = (await File.ReadAllTextAsync(Template()))
            .Replace("{{DIR}}", folder).Replace("{{LISTEN}}", $"127.0.0.1:{port}")
            .Replace("{{NODE_A}}", nodeA).Replace("{{NODE_B}}", nodeB);
        await File.WriteAllTextAsync(Path.Combine(folder, "nginx.conf"), config);
        var nginx = Process.Start(new ProcessStartInfo(Binary())
        {
            ArgumentList = { "-c", Path.Combine(folder, "nginx.conf"), "-p", folder, "-e", Path.Combine(folder, "error.log"), "-g", "daemon off;" },
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        }) ?? throw new InvalidOperationException("nginx did not start");
        var balancer = new LoadBalancer(nginx, folder, port);
        try
        {
            await FreePort.WaitListeningAsync(port, "nginx");
        }
        catch (TimeoutException ex)
        {
            throw new InvalidOperationException("nginx did not start:\n" + balancer.ErrorLog + await nginx.StandardError.ReadToEndAsync(), ex);
        }
        return balancer;
    }

    static string Binary() =>
        Environment.GetEnvironmentVariable("AGG_NGINX") is { Length: > 0 } configured ? configured
        : File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx"
        : throw new InvalidOperationException("nginx is not installed: run the tests with ./test.sh, which installs it.");

    /// <summary>deploy/nginx.conf.template of this checkout: the tests run the file that ships.</summary>
    static string Template()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Aggregator.sln"))) root = root.Parent;
        return root is null
            ? throw new InvalidOperationException("Aggregator.sln not found above " + AppContext.BaseDirectory)
            : Path.Combine(root.FullName, "deploy", "nginx.conf.template");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_nginx.HasExited)
        {
            _nginx.Kill(entireProcessTree: true); // the master and its workers
            await _nginx.WaitForExitAsync();
        }
        _nginx.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
