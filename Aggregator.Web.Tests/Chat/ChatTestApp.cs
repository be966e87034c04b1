using System.Net;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Chats; // not ".Chat": the mock tests call a helper named Chat()

/// <summary>
/// The real app (real router, PostgreSQL, Redis) with the mock upstream configured as an
/// OpenAI-compatible provider: one key, a free model, a pro model and a hidden one.
/// </summary>
public class ChatTestApp : AppFactory, IAsyncLifetime
{
    public MockUpstreamServer Mock { get; private set; } = null!;

    // Seeded rows only: the background sync would otherwise pull the mock's whole catalogue in.
    // Admin:Email names nobody, so the first test user is not the Admin (who starts on the max tier).
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Sync:SchedulerEnabled"] = "false", ["Admin:Email"] = "nobody-admin@example.invalid",
    };
    public long FreeModelId { get; private set; }
    public long ProModelId { get; private set; }
    public long HiddenModelId { get; private set; }

    public async Task InitializeAsync()
    {
        Mock = await MockUpstreamServer.StartAsync();
        StartServer(); // start the app (migrations) before seeding; TestServer or Kestrel
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var provider = await SeedProviderAsync(db, scope.ServiceProvider.GetRequiredService<SecretBox>(), "mock", "Mock AI", Mock.OpenAIUrl);
        FreeModelId = (await AddModelAsync(db, provider, "gpt-4o-mini", "GPT-4o mini", Tier.Free)).Id;
        ProModelId = (await AddModelAsync(db, provider, "gpt-4o", "GPT-4o", Tier.Pro)).Id;
        HiddenModelId = (await AddModelAsync(db, provider, "gpt-secret", "Secret", Tier.Free, hidden: true)).Id;
        await scope.ServiceProvider.GetRequiredService<CatalogCache>().InvalidateAsync();
    }

    // The app itself is disposed by xunit through IDisposable (AppFactory drops the database).
    async Task IAsyncLifetime.DisposeAsync() => await Mock.DisposeAsync();

    public static async Task<Provider> SeedProviderAsync(AppDbContext db, SecretBox secrets, string name, string displayName, string baseUrl,
        bool enabled = true, bool withKey = true, ProviderKind kind = ProviderKind.Aggregator)
    {
        var provider = new Provider { Name = name, DisplayName = displayName, BaseUrl = baseUrl, Kind = kind, ApiStandard = ApiStandard.OpenAI, Enabled = enabled };
        db.Providers.Add(provider);
        await db.SaveChangesAsync();
        if (withKey)
        {
            var secret = $"sk-mock-{name}-{Guid.NewGuid():N}";
            db.ApiKeys.Add(new ApiKey
            {
                ProviderId = provider.Id, Name = "test key", EncryptedSecret = secrets.Encrypt(secret),
                SecretFingerprint = secrets.Fingerprint(secret), MaskedHint = SecretBox.Mask(secret),
            });
            await db.SaveChangesAsync();
        }
        return provider;
    }

    public static async Task<AiModel> AddModelAsync(AppDbContext db, Provider provider, string modelId, string name, Tier tier,
        bool hidden = false, bool available = true, ModelType type = ModelType.Chat, ModelCapabilities caps = ModelCapabilities.None)
    {
        var now = DateTime.UtcNow;
        var model = new AiModel
        {
            ProviderId = provider.Id, ModelId = modelId, DisplayName = name, TierRequired = tier, Hidden = hidden, Available = available,
            Type = type, Capabilities = caps, ContextWindow = 128_000, FirstSeenAt = now, LastSeenAt = now, UpdatedAt = now, ContentHash = "test",
        };
        db.Models.Add(model);
        await db.SaveChangesAsync();
        return model;
    }

    public async Task<ChatUser> UserAsync(Tier tier = Tier.Free) => await ChatUser.CreateAsync(this, tier);

    public async Task<T> QueryAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        await using var scope = Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    public Task<Message> MessageAsync(long id) => QueryAsync(db => db.Messages.AsNoTracking().SingleAsync(m => m.Id == id));

    /// <summary>Polls the database until the reply is no longer streaming.</summary>
    public async Task<Message> FinishedAsync(long messageId, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var message = await MessageAsync(messageId);
            if (message.Status != MessageStatus.Streaming) return message;
            if (DateTime.UtcNow > until) throw new TimeoutException($"Message {messageId} still streaming");
            await Task.Delay(100);
        }
    }
}

/// <summary>A signed-in user with a cookie jar shared by page requests and hub connections.</summary>
public sealed class ChatUser
{
    readonly AppFactory app;
    public CookieContainer Cookies { get; } = new();
    public HttpClient Http { get; }
    public required string Email { get; init; }
    public string UserId { get; private set; } = "";

    ChatUser(AppFactory app)
    {
        this.app = app;
        Http = app.CreateDefaultClient(new CookieContainerHandler(Cookies));
    }

    public static async Task<ChatUser> CreateAsync(AppFactory app, Tier tier)
    {
        var user = new ChatUser(app) { Email = $"u-{Guid.NewGuid():N}@example.com" };
        const string password = "Passw0rd!x";
        var registered = await user.Http.PostFormAsync("/Account/Register", new Dictionary<string, string>
        {
            ["Input.Email"] = user.Email, ["Input.Password"] = password, ["Input.ConfirmPassword"] = password,
        });
        Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var entity = await users.FindByEmailAsync(user.Email) ?? throw new InvalidOperationException("user not created");
        user.UserId = entity.Id;
        if (tier != Tier.Free)
        {
            entity.Tier = tier;
            await users.UpdateAsync(entity);
            // Sign in again so the cookie carries the new tier claim.
            var login = await user.Http.PostFormAsync("/Account/Login", new Dictionary<string, string>
            {
                ["Input.Email"] = user.Email, ["Input.Password"] = password,
            });
            Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        }
        return user;
    }

    /// <param name="node">Another node of the same cluster to connect to (default: the one the user registered on).</param>
    public async Task<ChatConnection> ConnectAsync(HttpTransportType transport = HttpTransportType.LongPolling, AppFactory? node = null)
    {
        var server = (node ?? app).Server;
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(server.BaseAddress, ChatExtensions.HubPath.TrimStart('/')), o =>
            {
                o.Transports = transport;
                o.HttpMessageHandlerFactory = _ => new CookieContainerHandler(Cookies) { InnerHandler = server.CreateHandler() };
            })
            .Build();
        var connection = new ChatConnection(hub);
        await hub.StartAsync();
        return connection;
    }
}
