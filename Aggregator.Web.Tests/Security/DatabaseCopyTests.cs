using System.Net;
using System.Security.Claims;
using System.Xml.Linq;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Security;

/// <summary>
/// An attacker with a copy of the database (every row, no Secrets:Key) tries to become the Admin by
/// minting the auth cookie from the stored Data Protection key ring.
/// </summary>
public sealed class DatabaseCopyTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task A_database_dump_alone_cannot_forge_an_admin_cookie_but_the_secrets_key_could()
    {
        var email = $"admin-{Guid.NewGuid():N}@example.com";
        var admin = await app.RegisterAsync(email); // the first account is the Admin
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/Admin/Users")).StatusCode);

        var dump = await DumpAsync(email);
        Assert.NotEmpty(dump.Keys);
        foreach (var key in dump.Keys)
        {
            Assert.DoesNotContain(key.Descendants(), e => e.Name.LocalName == "masterKey");
            Assert.Contains(key.Descendants(), e => e.Name.LocalName == "sealedKey");
        }

        // Only the rows: the sealed keys cannot be opened, so whatever is minted is signed with a key the server never saw.
        var forged = Forge(dump, secrets: null);
        var refused = await GetAdminAsync(forged);
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.Contains("/Account/Login", refused.Headers.Location!.ToString());

        // Positive control: the same forgery with Secrets:Key added is accepted, so the test can tell the difference.
        var withKey = Forge(dump, new SecretsKey(Convert.FromBase64String(app.SecretsKey)));
        Assert.Equal(HttpStatusCode.OK, (await GetAdminAsync(withKey)).StatusCode);
    }

    [Fact]
    public async Task Unencrypted_keys_left_by_an_older_version_are_revoked_at_start_so_a_dump_holding_one_is_useless()
    {
        var email = $"old-{Guid.NewGuid():N}@example.com";
        await app.RegisterAsync(email);

        // What an older version wrote: a key in the clear, and a cookie signed with it.
        var plaintext = new DumpRepository([]);
        var oldDump = (await DumpAsync(email)) with { Keys = [] };
        var cookie = Forge(oldDump, secrets: null, repository: plaintext);
        var oldKey = Assert.Single(plaintext.Stored);
        Assert.Contains(oldKey.Descendants(), e => e.Name.LocalName == "masterKey");
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            db.DataProtectionKeys.Add(new() { FriendlyName = "key-" + (string?)oldKey.Attribute("id"), Xml = oldKey.ToString(SaveOptions.DisableFormatting) });
            await db.SaveChangesAsync();
        }

        // The upgraded app starts on that database.
        await using var restarted = new SameDatabaseApp(app);
        using var client = restarted.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/Admin/Users");
        request.Headers.Add("Cookie", $"aggregator.auth={cookie}");
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);

        await using var check = restarted.Services.CreateAsyncScope();
        var keys = check.ServiceProvider.GetRequiredService<IKeyManager>().GetAllKeys();
        Assert.True(keys.Single(k => k.KeyId == Guid.Parse((string)oldKey.Attribute("id")!)).IsRevoked);
    }

    sealed record Dump(IReadOnlyList<XElement> Keys, string UserId, string Email, string SecurityStamp);

    async Task<Dump> DumpAsync(string email)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var rows = await db.DataProtectionKeys.AsNoTracking().Select(k => k.Xml!).ToListAsync();
        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Email == email);
        return new Dump(rows.Select(x => XElement.Parse(x)).ToList(), user.Id, email, user.SecurityStamp!);
    }

    /// <summary>The cookie Identity would issue for the dumped user, minted outside the app from the given key ring.</summary>
    static string Forge(Dump dump, SecretsKey? secrets, DumpRepository? repository = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDataProtection().SetApplicationName("Aggregator");
        var keys = repository ?? new DumpRepository(dump.Keys);
        services.Configure<KeyManagementOptions>(o => o.XmlRepository = keys);
        if (secrets is not null) services.AddSingleton(secrets);
        using var provider = services.BuildServiceProvider();
        var protector = provider.GetDataProtector("Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationMiddleware", IdentityConstants.ApplicationScheme, "v2");

        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, dump.UserId), new Claim(ClaimTypes.Name, dump.Email), new Claim(ClaimTypes.Email, dump.Email),
            new Claim("AspNet.Identity.SecurityStamp", dump.SecurityStamp), new Claim(ClaimTypes.Role, AccountExtensions.AdminRole),
            new Claim(AccountExtensions.TierClaim, nameof(Tier.Max)), new Claim("amr", "pwd"),
        ], IdentityConstants.ApplicationScheme);
        var now = DateTimeOffset.UtcNow;
        var ticket = new AuthenticationTicket(new ClaimsPrincipal(identity),
            new AuthenticationProperties { IssuedUtc = now, ExpiresUtc = now.AddHours(1), IsPersistent = true }, IdentityConstants.ApplicationScheme);
        return new TicketDataFormat(protector).Protect(ticket);
    }

    async Task<HttpResponseMessage> GetAdminAsync(string cookie)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/Admin/Users");
        request.Headers.Add("Cookie", $"aggregator.auth={cookie}");
        return await client.SendAsync(request);
    }

    /// <summary>The dumped rows as a key repository; keys the forger generates stay in memory.</summary>
    sealed class DumpRepository(IEnumerable<XElement> dumped) : IXmlRepository
    {
        readonly List<XElement> _elements = dumped.ToList();
        public List<XElement> Stored { get; } = [];
        public IReadOnlyCollection<XElement> GetAllElements() => _elements.Concat(Stored).ToList();
        public void StoreElement(XElement element, string friendlyName) => Stored.Add(element);
    }

    /// <summary>A second app process on the first one's database and secrets key (an upgrade, a restart).</summary>
    sealed class SameDatabaseApp(AppFactory first) : AppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = first.ConnectionString,
            ["Secrets:Key"] = first.SecretsKey,
            ["Redis:InstanceName"] = first.DatabaseName + ":",
        };
    }
}
