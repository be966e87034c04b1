using System.Net;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Aggregator.Web.Tests.Security;

/// <summary>The app on http://localhost with one more origin allowed by configuration.</summary>
public sealed class AllowedOriginApp : AppFactory
{
    public const string Extra = "https://chat.example.com";
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Sync:SchedulerEnabled"] = "false",
        ["Hub:AllowedOrigins:0"] = Extra,
    };
}

/// <summary>A page elsewhere (another port of the same host) must not open the hub with the user's cookie.</summary>
public sealed class HubOriginTests(AllowedOriginApp app) : IClassFixture<AllowedOriginApp>
{
    [Theory]
    [InlineData(HttpTransportType.WebSockets)]
    [InlineData(HttpTransportType.LongPolling)]
    [InlineData(HttpTransportType.ServerSentEvents)]
    public async Task A_page_on_another_origin_is_refused_and_the_apps_own_origin_and_the_allow_list_connect(HttpTransportType transport)
    {
        var user = await ChatUser.CreateAsync(app, Data.Tier.Free);

        await using (var foreign = SecureHub.Build(app, user.Cookies, transport, origin: "http://localhost:1"))
        {
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => foreign.StartAsync());
            Assert.Contains("403", refused.ToString());
        }

        foreach (var origin in new[] { "http://localhost", AllowedOriginApp.Extra, null })
        {
            await using var hub = SecureHub.Build(app, user.Cookies, transport, origin);
            await hub.StartAsync();
            var page = await hub.InvokeAsync<ConversationPage>(nameof(ChatHub.ListConversations), null, null);
            Assert.Empty(page.Items);
        }
    }

    [Theory]
    [InlineData("http://localhost:1")]   // another port
    [InlineData("https://localhost")]    // another scheme
    [InlineData("http://evil.example")]  // another host
    [InlineData("null")]                 // a sandboxed frame or a file
    public async Task Every_hub_endpoint_refuses_a_foreign_origin_with_403(string origin)
    {
        var user = await ChatUser.CreateAsync(app, Data.Tier.Free);
        using var negotiate = new HttpRequestMessage(HttpMethod.Post, ChatExtensions.HubPath + "/negotiate?negotiateVersion=1");
        negotiate.Headers.Add("Origin", origin);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.Http.SendAsync(negotiate)).StatusCode);

        // Skipping negotiation does not help: the connection endpoint checks too.
        using var poll = new HttpRequestMessage(HttpMethod.Get, ChatExtensions.HubPath + "?id=anything");
        poll.Headers.Add("Origin", origin);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.Http.SendAsync(poll)).StatusCode);
    }
}

public sealed class HubOriginOptionsTests
{
    [Fact]
    public void An_allowed_origin_with_a_path_stops_start_up_naming_the_setting()
    {
        using var app = new BadOriginApp();
        var error = Assert.ThrowsAny<Exception>(() => app.Server);
        Assert.Contains("Hub:AllowedOrigins", error.ToString());
    }

    sealed class BadOriginApp : AppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Hub:AllowedOrigins:0"] = "https://chat.example.com/app" };
    }
}
