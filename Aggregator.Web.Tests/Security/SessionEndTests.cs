using System.Net;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Security;

/// <summary>A session is checked against the account on every request, not once a minute.</summary>
public sealed class SessionEndTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task A_copied_cookie_is_refused_right_after_logout()
    {
        var user = await ChatUser.CreateAsync(app, Tier.Free);
        var copy = user.Cookies.GetCookies(app.Server.BaseAddress)["aggregator.auth"]!.Value;
        Assert.Equal(HttpStatusCode.OK, (await WithCookieAsync(copy, "/")).StatusCode);

        var logout = await user.Http.PostFormAsync("/Account/Logout", new Dictionary<string, string>());
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);

        var replay = await WithCookieAsync(copy, "/");
        Assert.Equal(HttpStatusCode.Redirect, replay.StatusCode);
        Assert.Contains("/Account/Login", replay.Headers.Location!.ToString());
    }

    [Fact]
    public async Task A_tier_or_role_change_reaches_the_session_on_the_next_request_without_signing_out()
    {
        var email = $"member-{Guid.NewGuid():N}@example.com";
        var member = await app.RegisterAsync(email);
        await app.RegisterAsync($"second-{Guid.NewGuid():N}@example.com"); // so "member" is not the sole (first) account
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = (await users.FindByEmailAsync(email))!;
        var wasAdmin = await users.IsInRoleAsync(user, AccountExtensions.AdminRole);
        if (wasAdmin) await users.RemoveFromRoleAsync(user, AccountExtensions.AdminRole);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync("/Admin/Users")).StatusCode);

        user.Tier = Tier.Max;
        await users.UpdateAsync(user);
        Assert.Contains("tier-max", await member.GetStringAsync("/"));

        await users.AddToRoleAsync(user, AccountExtensions.AdminRole);
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync("/Admin/Users")).StatusCode);
        await users.RemoveFromRoleAsync(user, AccountExtensions.AdminRole);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync("/Admin/Users")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync("/")).StatusCode); // still signed in
    }

    [Fact]
    public async Task The_auth_cookie_is_same_site_strict_and_the_login_redirect_still_signs_in()
    {
        var email = $"strict-{Guid.NewGuid():N}@example.com";
        await app.RegisterAsync(email);
        var browser = app.CreateBrowser();
        var toLogin = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, toLogin.StatusCode);
        var loginUrl = toLogin.Headers.Location!.PathAndQuery;
        var login = await browser.PostFormAsync(loginUrl, new Dictionary<string, string>
        {
            ["Input.Email"] = email, ["Input.Password"] = "Passw0rd!x", ["ReturnUrl"] = "/",
        });
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var cookie = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("aggregator.auth="));
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(login.Headers.Location!.OriginalString)).StatusCode);
    }

    async Task<HttpResponseMessage> WithCookieAsync(string value, string path)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", $"aggregator.auth={value}");
        return await client.SendAsync(request);
    }
}
