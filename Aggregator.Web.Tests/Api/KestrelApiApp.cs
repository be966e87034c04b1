using System.Net.Http.Headers;
using Aggregator.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Api;

/// <summary>
/// The API test app on real Kestrel (a free loopback port), for what TestServer does not model:
/// hundreds of concurrent connections, and a client that hangs up in the middle of a stream.
/// </summary>
public sealed class KestrelApiApp : ApiTestApp
{
    public KestrelApiApp() => UseKestrel(0);

    /// <summary>Where Kestrel listens, e.g. http://127.0.0.1:41234/.</summary>
    public Uri BaseUrl
    {
        get
        {
            var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
            var address = addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal));
            return new Uri(address.EndsWith('/') ? address : address + "/");
        }
    }

    /// <summary>An account made directly (no pages involved): the API needs nothing but its id.</summary>
    public async Task<string> AccountAsync(Tier tier)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var email = $"k-{Guid.NewGuid():N}@example.com";
        var user = new AppUser { UserName = email, Email = email, Tier = tier };
        var created = await users.CreateAsync(user);
        Assert.True(created.Succeeded, string.Join("; ", created.Errors.Select(e => e.Description)));
        return user.Id;
    }

    /// <summary>
    /// A plain HttpClient over sockets to the server, with the token as bearer; no connection limit, and a
    /// response disposed unread closes its connection at once (no draining it for reuse), like a client that hangs up.
    /// </summary>
    public HttpClient Network(string secret)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, MaxResponseDrainSize = 0 };
        var client = new HttpClient(handler) { BaseAddress = BaseUrl, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return client;
    }
}
