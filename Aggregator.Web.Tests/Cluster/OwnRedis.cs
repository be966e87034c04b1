using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>
/// A redis-server of this fixture only (never the shared one test.sh started), on a fixed free loopback
/// port so a test can stop it and start it again where the nodes expect it.
/// </summary>
public sealed class OwnRedis : IAsyncDisposable
{
    Process? _server;

    public int Port { get; } = FreePort.Next();
    public string Address => $"127.0.0.1:{Port}";

    public async Task StartAsync()
    {
        if (_server is { HasExited: false }) return;
        _server = Process.Start(new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        }) ?? throw new InvalidOperationException("redis-server did not start");
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        await FreePort.WaitListeningAsync(Port, "redis-server");
    }

    /// <summary>Kills the server (SIGKILL: no goodbye to the clients, as when its machine goes away).</summary>
    public async Task StopAsync()
    {
        if (_server is null || _server.HasExited) return;
        _server.Kill();
        await _server.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _server?.Dispose();
    }
}

static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task WaitListeningAsync(int port, string what, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < until)
            {
                await Task.Delay(50);
            }
            catch (SocketException ex)
            {
                throw new TimeoutException($"{what} is not listening on {port}", ex);
            }
        }
    }
}
