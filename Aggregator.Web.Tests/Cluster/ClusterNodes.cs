using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>A clock <paramref name="offset"/> away from the real one (timers run in real time): a node whose clock is off.</summary>
public sealed class SkewedClock(TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + offset;
}

public static class ClusterNodes
{
    /// <summary>The node with its own clock, <paramref name="offset"/> from everyone else's.</summary>
    public static WebApplicationFactory<Program> WithClockOff(this WebApplicationFactory<Program> node, TimeSpan offset) =>
        node.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(new SkewedClock(offset))));
}

/// <summary>A redis-server of the test's own on a free loopback port, to stop and start again (never the shared one).</summary>
public sealed class PrivateRedis : IDisposable
{
    Process? _process;

    public int Port { get; } = FreePort();
    public string ConnectionString => $"127.0.0.1:{Port}";

    public async Task StartAsync()
    {
        _process = Process.Start(new ProcessStartInfo("redis-server", $"--port {Port} --bind 127.0.0.1 --save \"\" --appendonly no")
        {
            RedirectStandardOutput = true, UseShellExecute = false,
        })!;
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        var until = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < until)
            {
                await Task.Delay(20);
            }
        }
    }

    public void Kill()
    {
        if (_process is null) return;
        _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    public void Dispose() => Kill();

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
