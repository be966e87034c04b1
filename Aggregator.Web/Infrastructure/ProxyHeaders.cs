using System.Net;
using Aggregator.Web.Data;
using Microsoft.AspNetCore.HttpOverrides;

namespace Aggregator.Web.Infrastructure;

/// <summary>
/// Behind a load balancer (deploy/nginx.conf.template): the client's address and scheme come from the
/// proxy's X-Forwarded-For / X-Forwarded-Proto, so an https site terminated at the proxy still sets
/// Secure cookies, HSTS and the hub's origin check on https. Only proxies on loopback are trusted by
/// default; <c>Proxy:KnownProxies</c> (addresses) and <c>Proxy:KnownNetworks</c> (CIDR) add others.
/// The Host header is not taken from the proxy: nginx passes the browser's own.
/// </summary>
public static class ProxyHeaders
{
    public static IServiceCollection AddProxyHeaders(this IServiceCollection services, IConfiguration configuration)
    {
        var proxies = configuration.GetSection("Proxy:KnownProxies").Get<string[]>() ?? [];
        var networks = configuration.GetSection("Proxy:KnownNetworks").Get<string[]>() ?? [];
        foreach (var entry in proxies.Where(p => !IPAddress.TryParse(p, out _)))
            throw new StartupException($"Proxy:KnownProxies entry '{entry}' is not an IP address.");
        foreach (var entry in networks.Where(n => !System.Net.IPNetwork.TryParse(n, out _)))
            throw new StartupException($"Proxy:KnownNetworks entry '{entry}' is not a network such as 10.0.0.0/8.");
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            foreach (var proxy in proxies) o.KnownProxies.Add(IPAddress.Parse(proxy));
            foreach (var network in networks) o.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        });
        return services;
    }
}
