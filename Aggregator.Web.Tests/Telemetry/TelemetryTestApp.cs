using System.Net.Http.Headers;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Api;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aggregator.Web.Tests.Telemetry;

/// <summary>
/// The API test app (mock provider "mock", "cheap" and "direct") with a scrape token, every log line of every category
/// captured down to Debug, and helpers for /metrics, the mock's recorded trace context and an admin account.
/// </summary>
public sealed class TelemetryTestApp : ApiTestApp
{
    public string ScrapeToken { get; } = "scrape-" + Guid.NewGuid().ToString("N");
    public ScopedLogs Logs { get; } = new();

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = base.Settings;
            settings["Telemetry:ScrapeToken"] = ScrapeToken;
            settings["Logging:LogLevel:Default"] = "Debug";
            settings["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Information";
            settings["Logging:LogLevel:System.Net.Http"] = "Trace";
            return settings;
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
    }

    /// <summary>/metrics as a scraper with the token reads it.</summary>
    public async Task<string> ScrapeAsync()
    {
        using var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ScrapeToken);
        using var response = await client.GetAsync("/metrics");
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Scrapes until every line predicate finds a series (the exporter caches a scrape for a moment).</summary>
    public async Task<string> ScrapeUntilAsync(params Func<string, bool>[] series)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var text = await ScrapeAsync();
            var lines = text.Split('\n');
            if (series.All(s => lines.Any(s))) return text;
            if (DateTime.UtcNow > until) throw new TimeoutException("Series missing from /metrics:\n" + text);
            await Task.Delay(100);
        }
    }

    /// <summary>The trace id of the traceparent header the mock received on the request whose body contains <paramref name="marker"/>.</summary>
    public async Task<string> UpstreamTraceIdAsync(string marker)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var request = Mock.State.Received.LastOrDefault(r => r.Body.Contains(marker, StringComparison.Ordinal));
            if (request is not null)
            {
                Assert.True(request.Headers.TryGetValue("traceparent", out var traceparent), "the upstream request carries a traceparent");
                var parts = traceparent!.Split('-'); // version-traceid-spanid-flags
                Assert.Equal(4, parts.Length);
                return parts[1];
            }
            if (DateTime.UtcNow > until) throw new TimeoutException($"The mock received no request with {marker}");
            await Task.Delay(50);
        }
    }

    /// <summary>A user in the Admin role, signed in again so the cookie carries the role.</summary>
    public async Task<ChatUser> AdminAsync()
    {
        var user = await UserAsync();
        await using (var scope = Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var entity = await users.FindByIdAsync(user.UserId) ?? throw new InvalidOperationException("no user");
            await users.AddToRoleAsync(entity, AccountExtensions.AdminRole);
        }
        var login = await user.Http.PostFormAsync("/Account/Login", new Dictionary<string, string>
        {
            ["Input.Email"] = user.Email, ["Input.Password"] = "Passw0rd!x",
        });
        Assert.Equal(System.Net.HttpStatusCode.Redirect, login.StatusCode);
        return user;
    }

    /// <summary>A provider "hostile-…" with one key whose secret the test knows, serving gpt-4o-mini.</summary>
    public async Task<(string Provider, long ModelId, string Secret)> HostileProviderAsync()
    {
        var name = "hostile" + Guid.NewGuid().ToString("N")[..6];
        // Letters beyond hex: no trace id, request id or GUID in a log line can contain it by chance.
        var secret = "sk-leak-" + string.Concat(Enumerable.Range(0, 32).Select(_ => "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ"[Random.Shared.Next(40)]));
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var secrets = scope.ServiceProvider.GetRequiredService<SecretBox>();
        var provider = await SeedProviderAsync(db, secrets, name, "Hostile AI", Mock.OpenAIUrl, withKey: false);
        db.ApiKeys.Add(new ApiKey
        {
            ProviderId = provider.Id, Name = "hostile key", EncryptedSecret = secrets.Encrypt(secret),
            SecretFingerprint = secrets.Fingerprint(secret), MaskedHint = SecretBox.Mask(secret),
        });
        await db.SaveChangesAsync();
        var model = await AddModelAsync(db, provider, "gpt-4o-mini", "Hostile mini", Tier.Free);
        await scope.ServiceProvider.GetRequiredService<CatalogCache>().InvalidateAsync();
        return (name, model.Id, secret);
    }
}
