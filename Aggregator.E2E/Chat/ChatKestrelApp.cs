using Aggregator.E2E.Infrastructure;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.E2E.Chat;

/// <summary>The app on Kestrel with the mock upstream as a provider: a free model, a pro model, and filler models.</summary>
public sealed class ChatKestrelApp : KestrelApp, IAsyncLifetime
{
    public MockUpstreamServer Mock { get; private set; } = null!;

    // Seeded rows only: the background sync would otherwise pull the mock's whole catalogue in.
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Sync:SchedulerEnabled"] = "false" };

    public async Task InitializeAsync()
    {
        Mock = await MockUpstreamServer.StartAsync();
        _ = BaseUrl; // starts Kestrel and migrates
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var secrets = scope.ServiceProvider.GetRequiredService<SecretBox>();
        var provider = await SeedProviderAsync(db, secrets, "mockhub", "Mock Hub", Mock.OpenAIUrl);
        await AddModelAsync(db, provider, "gpt-4o-mini", "GPT-4o mini", Tier.Free, caps: ModelCapabilities.Vision | ModelCapabilities.Tools);
        await AddModelAsync(db, provider, "gpt-4o", "GPT-4o", Tier.Pro, caps: ModelCapabilities.Vision);
        var now = DateTime.UtcNow;
        for (var i = 0; i < 60; i++)
            db.Models.Add(new AiModel
            {
                ProviderId = provider.Id, ModelId = $"filler-model-{i:D3}", DisplayName = $"Filler {i:D3}", TierRequired = Tier.Free,
                Type = ModelType.Chat, FirstSeenAt = now, LastSeenAt = now, UpdatedAt = now, ContentHash = "e2e",
            });
        await db.SaveChangesAsync();
        var direct = await SeedProviderAsync(db, secrets, "mockdirect", "Mock Direct", Mock.OpenAIUrl, kind: ProviderKind.Direct);
        await AddModelAsync(db, direct, "deepseek-chat", "DeepSeek Chat", Tier.Free, caps: ModelCapabilities.Reasoning);
        await scope.ServiceProvider.GetRequiredService<CatalogCache>().InvalidateAsync();
    }

    async Task IAsyncLifetime.DisposeAsync() => await Mock.DisposeAsync();

    static async Task<Provider> SeedProviderAsync(AppDbContext db, SecretBox secrets, string name, string displayName, string baseUrl,
        ProviderKind kind = ProviderKind.Aggregator)
    {
        var provider = new Provider { Name = name, DisplayName = displayName, BaseUrl = baseUrl, Kind = kind, ApiStandard = ApiStandard.OpenAI };
        var secret = $"sk-mock-{name}-{Guid.NewGuid():N}";
        provider.Keys.Add(new ApiKey
        {
            Name = "e2e key", EncryptedSecret = secrets.Encrypt(secret), SecretFingerprint = secrets.Fingerprint(secret), MaskedHint = SecretBox.Mask(secret),
        });
        db.Providers.Add(provider);
        await db.SaveChangesAsync();
        return provider;
    }

    static async Task AddModelAsync(AppDbContext db, Provider provider, string modelId, string name, Tier tier, ModelCapabilities caps)
    {
        var now = DateTime.UtcNow;
        db.Models.Add(new AiModel
        {
            ProviderId = provider.Id, ModelId = modelId, DisplayName = name, TierRequired = tier, Type = ModelType.Chat, Capabilities = caps,
            ContextWindow = 128_000, FirstSeenAt = now, LastSeenAt = now, UpdatedAt = now, ContentHash = "e2e",
        });
        await db.SaveChangesAsync();
    }

    public async Task<Message> LastReplyAsync(string email)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.Messages.AsNoTracking()
            .Where(m => m.Role == MessageRole.Assistant && db.Users.Any(u => u.Id == m.Conversation!.UserId && u.Email == email))
            .OrderByDescending(m => m.Id).FirstAsync();
    }
}
