using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Aggregator.Web.Cluster;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>A chat cluster on its own redis-server (which the test stops and starts again), with short leases.</summary>
public sealed class GenerationRedisOutageApp : ChatTestApp
{
    public OwnRedis Redis { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["ConnectionStrings:Redis"] = Redis.Address,
        ["Cluster:NodeLease:LeaseMs"] = "3000",
        ["Cluster:NodeLease:RenewMs"] = "300",
        ["Chat:SweepIntervalMs"] = "300",
    };

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Redis.Stop();
    }

    /// <summary>A redis-server of this test class only, on a free loopback port, without persistence (a restart forgets every key).</summary>
    public sealed class OwnRedis
    {
        readonly int port = FreePort();
        Process? server;

        public OwnRedis() => Start();

        public string Address => $"127.0.0.1:{port}";

        public void Start()
        {
            server = Process.Start(new ProcessStartInfo("redis-server", ["--port", $"{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            {
                RedirectStandardOutput = true, UseShellExecute = false,
            })!;
            server.BeginOutputReadLine();
            var until = DateTime.UtcNow.AddSeconds(10);
            while (!Accepts())
            {
                if (DateTime.UtcNow > until) throw new TimeoutException("redis-server did not start");
                Thread.Sleep(20);
            }
        }

        public void Stop()
        {
            if (server is null) return;
            server.Kill();
            server.WaitForExit();
            server.Dispose();
            server = null;
        }

        bool Accepts()
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException) { return false; }
        }

        static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}

public sealed class GenerationRedisOutageTests(GenerationRedisOutageApp app) : IClassFixture<GenerationRedisOutageApp>
{
    [Fact]
    public async Task While_Redis_is_unreachable_no_reply_is_swept_and_when_it_returns_empty_the_live_owner_keeps_its_reply()
    {
        await using var b = new SecondNode(app);
        b.StartServer();
        var user = await app.UserAsync();
        await using var onB = await GenerationClusterApp.ConnectAsync(user, b);
        var sent = await onB.SendAsync(app.FreeModelId, "through an outage mock:tokens=5000 mock:tps=20");
        await Eventually.Until(() => app.MessageAsync(sent.AssistantMessageId), m => m.Content.Length > 0, "the owner's periodic save");
        var leasesA = app.Services.GetRequiredService<INodeLeases>();
        var sweeperA = app.Services.GetRequiredService<GenerationSweeper>();
        var ownerB = b.Services.GetRequiredService<NodeIdentity>().Id;
        Assert.Contains(ownerB, (await leasesA.AliveAsync([ownerB], CancellationToken.None))!);

        app.Redis.Stop();
        await Eventually.Until(() => leasesA.AliveAsync([ownerB], CancellationToken.None), alive => alive is null, "node a cannot judge leases");
        // Longer than a lease: b's lease has expired by any clock, yet nobody may conclude that b is gone.
        var outageEnds = DateTime.UtcNow.AddSeconds(4);
        while (DateTime.UtcNow < outageEnds)
        {
            Assert.Equal(0, await sweeperA.SweepAsync(CancellationToken.None));
            Assert.Equal(MessageStatus.Streaming, (await app.MessageAsync(sent.AssistantMessageId)).Status);
            await Task.Delay(100); // polling pace while the background sweeps (every 300 ms) run too
        }
        var savedDuringOutage = await app.MessageAsync(sent.AssistantMessageId);

        // Redis returns with no keys at all: b renews at once, a judges again only after a lease period of seeing Redis.
        app.Redis.Start();
        await Eventually.Until(() => leasesA.AliveAsync([ownerB], CancellationToken.None), alive => alive is not null, "node a judges again",
            TimeSpan.FromSeconds(20));
        Assert.Equal(0, await sweeperA.SweepAsync(CancellationToken.None));
        var after = await Eventually.Until(() => app.MessageAsync(sent.AssistantMessageId), m => m.Seq > savedDuringOutage.Seq,
            "the reply going on");
        Assert.Equal(MessageStatus.Streaming, after.Status);
        Assert.Null(after.Error);

        // And judging works again: b's lease gone → a survivor takes its reply.
        await b.Services.GetRequiredService<NodeLeaseHeartbeat>().StopAsync(CancellationToken.None);
        var swept = await Eventually.Until(() => app.MessageAsync(sent.AssistantMessageId), m => m.Status != MessageStatus.Streaming,
            "the survivor's sweep", TimeSpan.FromSeconds(10));
        Assert.Equal(MessageStatus.Interrupted, swept.Status);
        Assert.StartsWith(savedDuringOutage.Content, swept.Content);
    }
}
