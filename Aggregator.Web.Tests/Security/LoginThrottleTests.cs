using System.Net;
using Aggregator.Web.Data;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Security;

/// <summary>
/// Small login limits, a client address the test chooses (header <c>X-Test-Client</c>, as if each
/// value were another machine), and a password hasher that counts its verifications.
/// </summary>
public sealed class ThrottledApp : AppFactory
{
    public const int PerAddress = 6;
    public const int PerAccount = 3;
    public CountingHasher Hasher { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Login:AttemptsPerAddress"] = PerAddress.ToString(),
        ["Login:AttemptsPerAccount"] = PerAccount.ToString(),
        ["Login:WindowSeconds"] = "600",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<IPasswordHasher<AppUser>>(Hasher);
            services.AddSingleton<IStartupFilter, ClientAddressFromHeader>();
        });
    }

    public HttpClient From(string address)
    {
        var client = this.CreateBrowser();
        client.DefaultRequestHeaders.Add("X-Test-Client", address);
        return client;
    }

    sealed class ClientAddressFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((HttpContext context, RequestDelegate inner) =>
            {
                if (IPAddress.TryParse(context.Request.Headers["X-Test-Client"], out var address)) context.Connection.RemoteIpAddress = address;
                return inner(context);
            });
            next(app);
        };
    }
}

public sealed class CountingHasher : IPasswordHasher<AppUser>
{
    readonly PasswordHasher<AppUser> _inner = new();
    int _verifications;
    public int Verifications => Volatile.Read(ref _verifications);
    public string HashPassword(AppUser user, string password) => _inner.HashPassword(user, password);
    public PasswordVerificationResult VerifyHashedPassword(AppUser user, string hashedPassword, string providedPassword)
    {
        Interlocked.Increment(ref _verifications);
        return _inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
    }
}

public sealed class LoginThrottleTests(ThrottledApp app) : IClassFixture<ThrottledApp>
{
    static Dictionary<string, string> Form(string email, string password) => new() { ["Input.Email"] = email, ["Input.Password"] = password };

    [Fact]
    public async Task Guessing_one_accounts_password_is_throttled_for_the_guesser_but_not_for_the_owner_elsewhere()
    {
        var email = $"owner-{Guid.NewGuid():N}@example.com";
        await app.RegisterAsync(email);
        var stranger = app.From("203.0.113.10");
        for (var i = 0; i < ThrottledApp.PerAccount; i++)
            Assert.Contains("Wrong email or password.", await (await stranger.PostFormAsync("/Account/Login", Form(email, $"Guess-{i}-passw0rd"))).Content.ReadAsStringAsync());

        // Even the right password (and another spelling of the email) is refused from there now.
        var throttled = await stranger.PostFormAsync("/Account/Login", Form(email.ToUpperInvariant(), "Passw0rd!x"));
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.Matches(@"Too many attempts\. Try again in \d+ s\.", await throttled.Content.ReadAsStringAsync());
        Assert.True(int.Parse(throttled.Headers.GetValues("Retry-After").Single()) > 0);

        // The owner, signing in from their own machine, is not locked out by the stranger.
        var owner = await app.From("198.51.100.20").PostFormAsync("/Account/Login", Form(email, "Passw0rd!x"));
        Assert.Equal(HttpStatusCode.Redirect, owner.StatusCode);
    }

    [Fact]
    public async Task One_address_trying_many_accounts_is_throttled()
    {
        var client = app.From("203.0.113.77");
        for (var i = 0; i < ThrottledApp.PerAddress; i++)
            Assert.Equal(HttpStatusCode.OK, (await client.PostFormAsync("/Account/Login", Form($"spray-{i}-{Guid.NewGuid():N}@example.com", "Passw0rd!x"))).StatusCode);

        var throttled = await client.PostFormAsync("/Account/Login", Form($"spray-last-{Guid.NewGuid():N}@example.com", "Passw0rd!x"));
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.Contains("Too many attempts.", await throttled.Content.ReadAsStringAsync());
        // Another address is unaffected.
        Assert.Equal(HttpStatusCode.OK, (await app.From("203.0.113.78").PostFormAsync("/Account/Login", Form($"x-{Guid.NewGuid():N}@example.com", "Passw0rd!x"))).StatusCode);
    }

    [Fact]
    public async Task An_unknown_email_costs_the_same_password_verification_as_a_wrong_password()
    {
        var email = $"timing-{Guid.NewGuid():N}@example.com";
        await app.RegisterAsync(email);

        var before = app.Hasher.Verifications;
        var wrong = await app.From("192.0.2.1").PostFormAsync("/Account/Login", Form(email, "Wrong-passw0rd"));
        Assert.Contains("Wrong email or password.", await wrong.Content.ReadAsStringAsync());
        Assert.Equal(before + 1, app.Hasher.Verifications);

        var unknown = await app.From("192.0.2.2").PostFormAsync("/Account/Login", Form($"nobody-{Guid.NewGuid():N}@example.com", "Wrong-passw0rd"));
        Assert.Contains("Wrong email or password.", await unknown.Content.ReadAsStringAsync());
        Assert.Equal(before + 2, app.Hasher.Verifications);
    }
}
