using System.Net;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.AspNetCore.SignalR.Client;

namespace Aggregator.Web.Tests.Security;

/// <summary>
/// Hub connections as a browser makes them, over the test server: a WebSocket (one HTTP request, so
/// the cookie is checked once, at connect) or long polling, with an optional Origin header.
/// </summary>
public static class SecureHub
{
    public static HubConnection Build(AppFactory app, CookieContainer cookies, HttpTransportType transport, string? origin = null) =>
        new HubConnectionBuilder()
            .WithUrl(new Uri(app.Server.BaseAddress, ChatExtensions.HubPath.TrimStart('/')), o =>
            {
                o.Transports = transport;
                if (origin is not null) o.Headers["Origin"] = origin;
                o.HttpMessageHandlerFactory = _ => new CookieContainerHandler(cookies) { InnerHandler = app.Server.CreateHandler() };
                o.WebSocketFactory = async (context, ct) =>
                {
                    var client = app.Server.CreateWebSocketClient();
                    client.ConfigureRequest = request =>
                    {
                        request.Headers.Cookie = cookies.GetCookieHeader(app.Server.BaseAddress);
                        if (origin is not null) request.Headers.Origin = origin;
                    };
                    return await client.ConnectAsync(context.Uri, ct);
                };
            })
            .Build();

    public static async Task<ChatConnection> ConnectAsync(AppFactory app, ChatUser user, HttpTransportType transport = HttpTransportType.WebSockets)
    {
        var connection = new ChatConnection(Build(app, user.Cookies, transport));
        await connection.Hub.StartAsync();
        return connection;
    }

    /// <summary>Completes when the server closes the connection.</summary>
    public static Task ClosedAsync(this HubConnection hub)
    {
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };
        if (hub.State == HubConnectionState.Disconnected) closed.TrySetResult();
        return closed.Task;
    }
}
