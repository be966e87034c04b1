using System.Net;
using Aggregator.Web.Data;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Accounts;

public sealed class RegistrationTests(AppFactory app) : IClassFixture<AppFactory>
{
    static Dictionary<string, string> Form(string email, string password, string? confirm = null) => new()
    {
        ["Input.Email"] = email,
        ["Input.Password"] = password,
        ["Input.ConfirmPassword"] = confirm ?? password,
    };

    async Task<int> CountAsync(string email)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.Users.CountAsync(u => u.NormalizedEmail == email.ToUpperInvariant());
    }

    [Fact]
    public async Task Registering_a_taken_email_is_refused_even_in_another_case()
    {
        var email = $"taken-{Guid.NewGuid():N}@example.com";
        await app.RegisterAsync(email);

        foreach (var attempt in new[] { email, email.ToUpperInvariant(), "  " + email + " " })
        {
            var response = await app.CreateBrowser().PostFormAsync("/Account/Register", Form(attempt, "An0ther-pass"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // the form again, not a redirect
            var html = await response.Content.ReadAsStringAsync();
            // Once: Identity reports a taken email twice (as the user name and as the email).
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(html, "An account with this email already exists."));
            Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("aggregator.auth=")));
        }
        Assert.Equal(1, await CountAsync(email));
    }

    [Theory]
    [InlineData("short1", "at least 8")]           // too short
    [InlineData("nodigitshere", "digit")]           // no digit
    [InlineData("12345678", "lowercase")]           // no lowercase letter
    public async Task A_weak_password_is_refused_with_the_reason(string password, string reason)
    {
        var email = $"weak-{Guid.NewGuid():N}@example.com";
        var response = await app.CreateBrowser().PostFormAsync("/Account/Register", Form(email, password));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("data-testid=\"form-errors\"", html);
        Assert.Contains(reason, html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(password, html.Replace("value=\"\"", "")); // the password is not echoed back
        Assert.Equal(0, await CountAsync(email));
    }

    [Fact]
    public async Task Mismatched_confirmation_and_malformed_email_are_refused()
    {
        var email = $"mismatch-{Guid.NewGuid():N}@example.com";
        var mismatch = await app.CreateBrowser().PostFormAsync("/Account/Register", Form(email, "Passw0rd!x", "Passw0rd!y"));
        Assert.Equal(HttpStatusCode.OK, mismatch.StatusCode);
        Assert.Equal(0, await CountAsync(email));

        var malformed = await app.CreateBrowser().PostFormAsync("/Account/Register", Form("not-an-email", "Passw0rd!x"));
        Assert.Equal(HttpStatusCode.OK, malformed.StatusCode);
        Assert.Contains("data-testid=\"form-errors\"", await malformed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Registration_without_the_antiforgery_token_is_rejected()
    {
        var client = app.CreateBrowser();
        var response = await client.PostAsync("/Account/Register", new FormUrlEncodedContent(Form($"csrf-{Guid.NewGuid():N}@example.com", "Passw0rd!x")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
