using System.Net;
using Aggregator.Web.Tests.Infrastructure;

namespace Aggregator.Web.Tests.Accounts;

public sealed class LoginTests(AppFactory app) : IClassFixture<AppFactory>
{
    static Dictionary<string, string> Form(string email, string password) => new()
    {
        ["Input.Email"] = email,
        ["Input.Password"] = password,
        ["Input.RememberMe"] = "false",
    };

    static bool SetsAuthCookie(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("aggregator.auth=") && !c.Contains("expires=Thu, 01 Jan 1970"));

    [Fact]
    public async Task Wrong_password_and_unknown_email_get_the_same_refusal_and_no_session()
    {
        var email = $"login-{Guid.NewGuid():N}@example.com";
        await app.RegisterAsync(email);

        foreach (var (who, password) in new[] { (email, "Wrong-passw0rd"), ($"nobody-{Guid.NewGuid():N}@example.com", "Passw0rd!x") })
        {
            var client = app.CreateBrowser();
            var response = await client.PostFormAsync("/Account/Login", Form(who, password));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("Wrong email or password.", await response.Content.ReadAsStringAsync()); // no account enumeration
            Assert.False(SetsAuthCookie(response));
            Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/")).StatusCode); // still signed out
        }

        var right = app.CreateBrowser();
        var ok = await right.PostFormAsync("/Account/Login", Form(email, "Passw0rd!x"));
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        Assert.True(SetsAuthCookie(ok));
        Assert.Equal(HttpStatusCode.OK, (await right.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task A_return_url_to_another_site_is_not_followed()
    {
        var email = $"redirect-{Guid.NewGuid():N}@example.com";
        await app.RegisterAsync(email);
        var client = app.CreateBrowser();
        var response = await client.PostFormAsync("/Account/Login?ReturnUrl=https%3A%2F%2Fevil.example%2F",
            new Dictionary<string, string>(Form(email, "Passw0rd!x")) { ["ReturnUrl"] = "https://evil.example/" });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.OriginalString);
    }
}
