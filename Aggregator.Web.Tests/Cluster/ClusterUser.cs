using System.Collections.Concurrent;
using System.Net;
using Aggregator.Web.Cluster;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>
/// A signed-in user of the cluster, talking to the load balancer only. Page requests go to
/// <see cref="Http"/> (pinned with <see cref="Pin"/>); each hub connection may be pinned to its own node.
/// </summary>
public sealed class ClusterUser
{
    public const string Password = "Passw0rd!x";
    public const string PinCookie = "agg_node";

    readonly TwoNodeCluster _cluster;

    ClusterUser(TwoNodeCluster cluster, string email)
    {
        _cluster = cluster;
        Email = email;
        Http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false, UseCookies = true })
            { BaseAddress = cluster.BaseUrl };
    }

    public string Email { get; }
    public CookieContainer Cookies { get; } = new();
    public HttpClient Http { get; }
    public string UserId { get; private set; } = "";

    public static async Task<ClusterUser> RegisterAsync(TwoNodeCluster cluster, string email, string? node)
    {
        var user = new ClusterUser(cluster, email);
        user.Pin(node);
        var registered = await user.Http.PostFormAsync("/Account/Register", new Dictionary<string, string>
        {
            ["Input.Email"] = email, ["Input.Password"] = Password, ["Input.ConfirmPassword"] = Password,
        });
        if (registered.StatusCode != HttpStatusCode.Redirect)
            throw new InvalidOperationException($"Registering {email} failed: {(int)registered.StatusCode} {await registered.Content.ReadAsStringAsync()}");
        user.UserId = await cluster.QueryAsync(db => Task.FromResult(db.Users.Single(u => u.Email == email).Id));
        return user;
    }

    /// <summary>Sends this user's page requests to node "a" or "b"; null: wherever the load balancer likes.</summary>
    public void Pin(string? node)
    {
        var cookie = new Cookie(PinCookie, node ?? "", "/", _cluster.BaseUrl.Host);
        if (node is null) cookie.Expired = true;
        Cookies.Add(_cluster.BaseUrl, cookie);
    }

    /// <summary>Another client with this user's session whose requests all go to <paramref name="node"/>.</summary>
    public HttpClient On(string node)
    {
        return new HttpClient(new HttpClientHandler { CookieContainer = PinnedCookies(node), AllowAutoRedirect = false }) { BaseAddress = _cluster.BaseUrl };
    }

    /// <summary>Which node served a page request (X-Aggregator-Node).</summary>
    public static string? ServedBy(HttpResponseMessage response) =>
        response.Headers.TryGetValues(NodeHeader.Name, out var values) ? values.Single() : null;

    /// <summary>A hub connection through the load balancer on WebSockets, pinned to <paramref name="node"/>.</summary>
    public async Task<ClusterConnection> ConnectAsync(string node)
    {
        var cookies = PinnedCookies(node);
        var served = new ConcurrentQueue<string>();
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(_cluster.BaseUrl, ChatExtensions.HubPath.TrimStart('/')), o =>
            {
                o.Transports = HttpTransportType.WebSockets;
                o.Cookies = cookies;
                o.HttpMessageHandlerFactory = inner => new NodeRecorder(served) { InnerHandler = inner };
            })
            .Build();
        var connection = new ClusterConnection(hub, served);
        await hub.StartAsync();
        return connection;
    }

    /// <summary>A copy of the session's cookies with the pin to <paramref name="node"/>.</summary>
    CookieContainer PinnedCookies(string node)
    {
        var cookies = new CookieContainer();
        foreach (Cookie cookie in Cookies.GetCookies(_cluster.BaseUrl))
            if (cookie.Name != PinCookie) cookies.Add(_cluster.BaseUrl, new Cookie(cookie.Name, cookie.Value, "/", _cluster.BaseUrl.Host));
        cookies.Add(_cluster.BaseUrl, new Cookie(PinCookie, node, "/", _cluster.BaseUrl.Host));
        return cookies;
    }

    /// <summary>Notes the serving node of each HTTP exchange of a hub connection (its negotiate).</summary>
    sealed class NodeRecorder(ConcurrentQueue<string> served) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (ServedBy(response) is { } node) served.Enqueue(node);
            return response;
        }
    }
}

/// <summary>A hub connection of the cluster: what it received, and which node negotiated it.</summary>
public sealed class ClusterConnection(HubConnection hub, ConcurrentQueue<string> served) : IAsyncDisposable
{
    public ChatConnection Chat { get; } = new(hub);
    public HubConnection Hub => hub;
    /// <summary>The node that answered the negotiate (the WebSocket follows it: the hub is sticky).</summary>
    public string? Node => served.TryPeek(out var node) ? node : null;

    public ValueTask DisposeAsync() => Chat.DisposeAsync();
}
