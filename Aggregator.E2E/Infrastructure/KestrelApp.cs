using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.E2E.Infrastructure;

/// <summary>
/// The real app on real Kestrel (a free loopback port) against a fresh PostgreSQL database and a
/// private Redis prefix: <see cref="AppFactory"/> with <c>UseKestrel(0)</c> + <c>StartServer()</c>.
/// Tests must navigate relative to <see cref="BaseUrl"/>; the port changes every run, so a
/// hard-coded URL fails.
/// </summary>
public class KestrelApp : AppFactory
{
    Uri? _baseUrl;

    public KestrelApp() => UseKestrel(0);

    /// <summary>Where the server really listens, e.g. http://127.0.0.1:41234/.</summary>
    public Uri BaseUrl => _baseUrl ??= Start();

    Uri Start()
    {
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        var address = addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal))
                      ?? throw new InvalidOperationException("Kestrel reported no HTTP address.");
        return new Uri(address.EndsWith('/') ? address : address + "/");
    }

    public string Url(string relative) => new Uri(BaseUrl, relative.TrimStart('/')).ToString();
}
