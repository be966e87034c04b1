using System.Net;
using System.Net.Sockets;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Telemetry;

/// <summary>The app on real Kestrel with a second port named as Telemetry:MetricsPort.</summary>
public sealed class MetricsPortApp : AppFactory
{
    public int MetricsPort { get; } = FreePort();

    public MetricsPortApp() => UseKestrel(o =>
    {
        o.Listen(IPAddress.Loopback, 0);
        o.Listen(IPAddress.Loopback, MetricsPort);
    });

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Telemetry:MetricsPort"] = MetricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Sync:SchedulerEnabled"] = "false",
    };

    /// <summary>The app's own (non-metrics) address.</summary>
    public Uri AppUrl
    {
        get
        {
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
            return new Uri(addresses.First(a => !a.EndsWith($":{MetricsPort}", StringComparison.Ordinal)));
        }
    }

    static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}

public sealed class MetricsPortTests(MetricsPortApp app) : IClassFixture<MetricsPortApp>
{
    [Fact]
    public async Task The_metrics_port_serves_metrics_without_credentials_and_nothing_else()
    {
        var appUrl = app.AppUrl;
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        var metricsPort = new Uri($"http://127.0.0.1:{app.MetricsPort}/");

        using var scraped = await http.GetAsync(new Uri(metricsPort, "metrics"));
        Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        Assert.Contains("# TYPE ", await scraped.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri(metricsPort, "health/live"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri(metricsPort, "Account/Login"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(new Uri(appUrl, "metrics"))).StatusCode); // the public port still asks
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(appUrl, "health/live"))).StatusCode);
    }
}
