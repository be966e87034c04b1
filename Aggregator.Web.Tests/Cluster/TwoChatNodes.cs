using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>Node "a" (the chat app with the mock provider seeded) and node "b" on the same database and Redis.</summary>
public class TwoChatNodes : IAsyncLifetime
{
    public TwoChatNodes() => A = CreateFirstNode();

    public ChatTestApp A { get; }
    public SecondNode B { get; private set; } = null!;

    protected virtual ChatTestApp CreateFirstNode() => new();

    public virtual async Task InitializeAsync()
    {
        await A.InitializeAsync();
        B = new SecondNode(A);
        B.StartServer();
    }

    public virtual async Task DisposeAsync()
    {
        await B.DisposeAsync();
        await ((IAsyncLifetime)A).DisposeAsync();
        await A.DisposeAsync();
    }

    /// <summary>An HTTP client on <paramref name="node"/> carrying <paramref name="user"/>'s cookie (as a load balancer would send it there).</summary>
    public static HttpClient ClientOn(AppFactory node, ChatUser user) => node.CreateDefaultClient(new CookieContainerHandler(user.Cookies));
}
