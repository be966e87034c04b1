using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Upstream;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Routing;
using Aggregator.Web.Upstream.Usage;

namespace Aggregator.Web.Tests.Router;

/// <summary>The app on real PostgreSQL with short router timeouts, plus a mock upstream on real Kestrel.</summary>
public class RouterAppFactory : AppFactory, IAsyncLifetime
{
    public MockUpstreamServer Mock { get; private set; } = null!;

    protected override IDictionary<string, string?> Settings => Overlay(new Dictionary<string, string?>
    {
        ["Sync:SchedulerEnabled"] = "false",
        // Unlimited: appsettings.json's default quotas would throttle a test's hundreds of requests from
        // one user. RouterQuotaTests sets the limits it tests.
        ["Quotas:Free:RequestsPerMinute"] = "", ["Quotas:Free:MessagesPerDay"] = "", ["Quotas:Free:TokensPerDay"] = "",
        ["Quotas:Pro:RequestsPerMinute"] = "", ["Quotas:Pro:MessagesPerDay"] = "", ["Quotas:Pro:TokensPerDay"] = "",
        ["Router:AttemptTimeout"] = "00:00:04",
        ["Router:FirstTokenDeadline"] = "00:00:10",
        ["Router:IdleTimeout"] = "00:00:04",
        ["Router:StreamDeadline"] = "00:00:12",
        ["Router:BackoffBase"] = "00:00:00.005",
        ["Router:BackoffMax"] = "00:00:00.040",
        ["Router:MaxRetryAfterWait"] = "00:00:03",
        ["KeyHealth:ProbeInterval"] = "01:00:00",
        ["KeyHealth:FlushInterval"] = "00:00:00.200",
    });

    Dictionary<string, string?> Overlay(Dictionary<string, string?> settings)
    {
        foreach (var (key, value) in ExtraSettings) settings[key] = value;
        return settings;
    }

    protected virtual IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>();

    public async Task InitializeAsync() => Mock = await MockUpstreamServer.StartAsync();

    async Task IAsyncLifetime.DisposeAsync() => await Mock.DisposeAsync();

    public IChatRouter Router => Services.GetRequiredService<IChatRouter>();
    public IApiKeyPool Pool => Services.GetRequiredService<IApiKeyPool>();

    /// <summary>Writes batched key counters and queued usage rows now.</summary>
    public async Task FlushAsync()
    {
        await Services.GetRequiredService<KeyStateWriter>().FlushAsync();
        await Services.GetRequiredService<UsageRecorder>().FlushAsync();
    }

    public async Task<T> DbAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        using var scope = Services.CreateScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    /// <summary>A provider on the mock with one key per secret and one model row; the routing table is reloaded.</summary>
    public async Task<Seeded> SeedAsync(
        string[] secrets, ApiStandard standard = ApiStandard.OpenAI, string modelId = "gpt-4o", Tier tier = Tier.Free,
        bool allowFallback = false, decimal? inputPrice = null, decimal? outputPrice = null, bool available = true, bool enabled = true)
    {
        using var scope = Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var box = scope.ServiceProvider.GetRequiredService<SecretBox>();
        var provider = new Provider
        {
            Name = "p" + Guid.NewGuid().ToString("N")[..10], DisplayName = "Mock " + standard, Kind = ProviderKind.Direct,
            ApiStandard = standard, BaseUrl = standard == ApiStandard.Anthropic ? Mock.AnthropicUrl : Mock.OpenAIUrl,
            Enabled = enabled, AllowFallback = allowFallback,
        };
        db.Providers.Add(provider);
        var keys = secrets.Select((s, i) => new ApiKey
        {
            Provider = provider, Name = $"key {i}", EncryptedSecret = box.Encrypt(s),
            SecretFingerprint = box.Fingerprint(s), MaskedHint = SecretBox.Mask(s),
        }).ToList();
        // One at a time so ids follow the array order (rotation breaks ties by id).
        foreach (var key in keys) { db.ApiKeys.Add(key); await db.SaveChangesAsync(); }
        var now = DateTime.UtcNow;
        var model = new AiModel
        {
            Provider = provider, ModelId = modelId, DisplayName = modelId, TierRequired = tier, Available = available,
            InputPricePerMTok = inputPrice, OutputPricePerMTok = outputPrice, FirstSeenAt = now, LastSeenAt = now, UpdatedAt = now,
            ContentHash = "h",
        };
        db.Models.Add(model);
        await db.SaveChangesAsync();
        await Services.GetRequiredService<RoutingTable>().ReloadAsync();
        return new Seeded(provider.Id, model.Id, keys.Select(k => k.Id).ToArray(), secrets);
    }

    public static string NewSecret(string label = "ok") => $"sk-{label}-{Guid.NewGuid():N}";
}

public sealed record Seeded(int ProviderId, long ModelId, long[] KeyIds, string[] Secrets);

/// <summary>Everything one routed request produced: its events and how it ended.</summary>
public sealed record RouterRun(List<StreamEvent> Events, Exception? Error)
{
    public string Text => string.Concat(Events.OfType<ContentDelta>().Select(d => d.Text));
    public RouteInfo? Route => Events.OfType<RouteStarted>().SingleOrDefault()?.Route;
    public StreamCompleted? Completed => Events.OfType<StreamCompleted>().SingleOrDefault();
    public RouterException RouterError => Assert.IsType<RouterException>(Error);

    public void AssertCompleted()
    {
        Assert.True(Error is null, $"expected success, got {Error}");
        Assert.NotNull(Completed);
        Assert.IsType<RouteStarted>(Events[0]);
        Assert.IsType<StreamCompleted>(Events[^1]);
    }
}

public static class RouterTestExtensions
{
    public static ChatRequest Ask(this Seeded seeded, string text = "Hello there", Tier tier = Tier.Max, string? userId = null, int? maxTokens = null) =>
        new(userId ?? "user-" + Guid.NewGuid().ToString("N")[..8], tier, seeded.ModelId, [new ChatTurn(MessageRole.User, text)], MaxTokens: maxTokens);

    public static async Task<RouterRun> RunAsync(this IChatRouter router, ChatRequest request, CancellationToken cancellationToken = default, Func<StreamEvent, bool>? stopWhen = null)
    {
        var events = new List<StreamEvent>();
        try
        {
            await foreach (var e in router.StreamAsync(request, cancellationToken))
            {
                events.Add(e);
                if (stopWhen?.Invoke(e) == true) break;
            }
            return new RouterRun(events, null);
        }
        catch (Exception ex) when (ex is RouterException or OperationCanceledException)
        {
            return new RouterRun(events, ex);
        }
    }

    public static Task<List<UsageRecord>> UsageForAsync(this RouterAppFactory app, string userId) =>
        app.DbAsync(db => db.Usage.AsNoTracking().Where(u => u.UserId == userId).OrderBy(u => u.Id).ToListAsync());

    public static Task<ApiKey> KeyRowAsync(this RouterAppFactory app, long keyId) =>
        app.DbAsync(db => db.ApiKeys.AsNoTracking().SingleAsync(k => k.Id == keyId));
}
