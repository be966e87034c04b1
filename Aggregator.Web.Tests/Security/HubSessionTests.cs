using System.Net;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Security;

/// <summary>
/// An open hub connection (a WebSocket: its cookie was checked once, when it opened) meets the account
/// as it is now on every call.
/// </summary>
public sealed class HubSessionTests(ChatTestApp app) : IClassFixture<ChatTestApp>
{
    [Fact]
    public async Task A_pro_user_downgraded_on_an_open_connection_cannot_start_a_pro_reply_on_the_next_call()
    {
        var user = await app.UserAsync(Tier.Pro);
        await using var chat = await SecureHub.ConnectAsync(app, user);
        var first = await chat.SendAsync(app.ProModelId, "Before the downgrade");
        Assert.Equal("complete", (await chat.CompletedAsync(first.AssistantMessageId)).Status);

        await SetTierAsync(user.UserId, Tier.Free); // what the Admin > Users page does

        var refused = await Assert.ThrowsAsync<HubException>(() => chat.SendAsync(app.ProModelId, "After the downgrade"));
        Assert.Contains("needs the pro tier; you are on free", refused.Message);
        // The connection stays open: the free models still work.
        var free = await chat.SendAsync(app.FreeModelId, "A free question");
        Assert.Equal("complete", (await chat.CompletedAsync(free.AssistantMessageId)).Status);
    }

    [Fact]
    public async Task An_upgrade_reaches_an_open_connection_on_the_next_call()
    {
        var user = await app.UserAsync(Tier.Free);
        await using var chat = await SecureHub.ConnectAsync(app, user);
        await Assert.ThrowsAsync<HubException>(() => chat.SendAsync(app.ProModelId, "Not yet"));

        await SetTierAsync(user.UserId, Tier.Pro);
        var sent = await chat.SendAsync(app.ProModelId, "Now");
        Assert.Equal("complete", (await chat.CompletedAsync(sent.AssistantMessageId)).Status);
    }

    [Fact]
    public async Task A_password_change_elsewhere_closes_the_old_connection()
    {
        var user = await app.UserAsync();
        await using var chat = await SecureHub.ConnectAsync(app, user);
        var closed = chat.Hub.ClosedAsync();
        await chat.Hub.InvokeAsync<ConversationPage>(nameof(ChatHub.ListConversations), null, null);

        // Another device signs in and changes the password.
        var other = app.CreateBrowser();
        Assert.Equal(HttpStatusCode.Redirect, (await other.PostFormAsync("/Account/Login", new Dictionary<string, string>
        {
            ["Input.Email"] = user.Email, ["Input.Password"] = "Passw0rd!x",
        })).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await other.PostFormAsync("/Account/ChangePassword", new Dictionary<string, string>
        {
            ["Input.CurrentPassword"] = "Passw0rd!x", ["Input.NewPassword"] = "N3w-passw0rd", ["Input.ConfirmPassword"] = "N3w-passw0rd",
        })).StatusCode);

        await Assert.ThrowsAnyAsync<Exception>(() => chat.Hub.InvokeAsync<ConversationPage>(nameof(ChatHub.ListConversations), null, null));
        await closed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HubConnectionState.Disconnected, chat.Hub.State);

        // The device that changed it keeps working.
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task Logging_out_closes_the_open_connection_of_the_same_session()
    {
        var user = await app.UserAsync();
        await using var chat = await SecureHub.ConnectAsync(app, user);
        var closed = chat.Hub.ClosedAsync();

        await user.Http.PostFormAsync("/Account/Logout", new Dictionary<string, string>());

        await Assert.ThrowsAnyAsync<Exception>(() => chat.Hub.InvokeAsync<ConversationPage>(nameof(ChatHub.ListConversations), null, null));
        await closed.WaitAsync(TimeSpan.FromSeconds(30));
    }

    async Task SetTierAsync(string userId, Tier tier)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var entity = (await users.FindByIdAsync(userId))!;
        entity.Tier = tier;
        await users.UpdateAsync(entity);
    }
}
