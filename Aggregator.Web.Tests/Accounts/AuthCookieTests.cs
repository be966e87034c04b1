using System.Net;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Aggregator.Web.Tests.Accounts;

public sealed class AuthCookieTests(AppFactory app) : IClassFixture<AppFactory>
{
    /// <summary>Registers and returns the value of the auth cookie the app issued.</summary>
    async Task<string> SignedInCookieAsync()
    {
        var client = app.CreateBrowser();
        var response = await client.PostFormAsync("/Account/Register", new Dictionary<string, string>
        {
            ["Input.Email"] = $"cookie-{Guid.NewGuid():N}@example.com",
            ["Input.Password"] = "Passw0rd!x",
            ["Input.ConfirmPassword"] = "Passw0rd!x",
        });
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("aggregator.auth="));
        return cookie["aggregator.auth=".Length..cookie.IndexOf(';')];
    }

    async Task<HttpResponseMessage> GetHomeWithCookieAsync(string value)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("Cookie", $"aggregator.auth={value}");
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task The_issued_cookie_signs_in()
    {
        var response = await GetHomeWithCookieAsync(await SignedInCookieAsync());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("garbage")]
    public async Task A_tampered_cookie_is_treated_as_signed_out(string tampering)
    {
        var value = await SignedInCookieAsync();
        var tampered = tampering switch
        {
            "flip" => value[..40] + (value[40] == 'A' ? 'B' : 'A') + value[41..],
            "truncate" => value[..(value.Length / 2)],
            _ => "CfDJ8" + new string('x', 200),
        };

        var response = await GetHomeWithCookieAsync(tampered);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("/Account/Login", response.Headers.Location!.ToString());
    }
}
