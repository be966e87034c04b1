using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Telemetry;
using Aggregator.Web.Upstream;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Hybrid;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Features.Catalog;

/// <summary>
/// The catalogue: what a user may pick, grouped by provider. One database query fills a
/// tier-independent list; each tier's view (locks applied, JSON pre-serialised, ETag) is cached
/// on top of it. Both live in HybridCache under <see cref="Tag"/>, so GetOrCreate is stampede-safe,
/// L2 is Redis when configured. Every committed save that touches providers, keys or models calls
/// <see cref="InvalidateAsync"/> (through <see cref="CommittedChangesInterceptor"/>, so no handler
/// has to), which also reloads the router's routing table so a disabled key or provider stops
/// serving at once.
/// </summary>
public sealed class CatalogCache(HybridCache cache, IDbContextFactory<AppDbContext> dbFactory, RoutingTable routing, GatewayTelemetry telemetry)
    : ICommittedChangesListener
{
    public const string Tag = "catalog";
    static readonly string[] Tags = [Tag];
    // L2 (Redis) holds the catalogue for every node; each node's L1 copy is short-lived so that an
    // invalidation made on another node is seen within half a minute even if its tag broadcast is missed.
    static readonly HybridCacheEntryOptions Entry = new() { Expiration = TimeSpan.FromMinutes(30), LocalCacheExpiration = TimeSpan.FromSeconds(30) };
    const string AllKey = "catalog:v1:all";

    public async ValueTask InvalidateAsync(CancellationToken cancellationToken = default)
    {
        await cache.RemoveByTagAsync(Tag, cancellationToken);
        await routing.ReloadAsync(cancellationToken);
    }

    ValueTask ICommittedChangesListener.OnCommittedAsync(ChangedData changes, CancellationToken cancellationToken) =>
        changes.HasFlag(ChangedData.Catalog) ? InvalidateAsync(cancellationToken) : ValueTask.CompletedTask;

    /// <summary>The catalogue as a user of <paramref name="tier"/> sees it: models above the tier are present but locked.</summary>
    public async ValueTask<CatalogView> GetAsync(Tier tier, CancellationToken cancellationToken = default)
    {
        var missed = new StrongBox<bool>();
        var view = await cache.GetOrCreateAsync($"catalog:v1:tier:{(int)tier}", (self: this, tier, missed),
            static async (s, ct) =>
            {
                s.missed.Value = true;
                return CatalogView.Build(s.tier, await s.self.GetAllAsync(ct));
            },
            options: Entry, tags: Tags, cancellationToken: cancellationToken);
        telemetry.CatalogLookup(missed.Value);
        return view;
    }

    ValueTask<CatalogSnapshot> GetAllAsync(CancellationToken cancellationToken) =>
        cache.GetOrCreateAsync(AllKey, this, static (s, ct) => s.QueryAsync(ct), Entry, Tags, cancellationToken: cancellationToken);

    /// <summary>The one catalogue query; public for the benchmark and tests that bypass the cache.</summary>
    public async ValueTask<CatalogSnapshot> QueryAsync(CancellationToken cancellationToken)
    {
        // A key "cooled down forever" is one whose cooldown ends beyond any retry horizon.
        var forever = DateTime.UtcNow.AddYears(100);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.Models.AsNoTracking()
            .Where(m => m.Available && !m.Hidden && m.HealthHiddenAt == null && m.Type == ModelType.Chat
                        && m.Provider!.Enabled
                        && m.Provider.Keys.Any(k => k.Active && k.DeletedAt == null
                                                    && (k.CooldownUntil == null || k.CooldownUntil < forever)))
            .Select(m => new
            {
                m.Id, m.ProviderId, ProviderName = m.Provider!.DisplayName, m.Provider.Kind,
                m.ModelId, Name = m.DisplayNameOverride ?? m.DisplayName, m.Capabilities, m.ContextWindow, m.TierRequired, m.MaxOutputTokens,
            })
            .ToListAsync(cancellationToken);

        var groups = rows
            .GroupBy(r => (r.ProviderId, r.ProviderName, r.Kind))
            // Direct providers first, then aggregators; alphabetical inside.
            .OrderBy(g => g.Key.Kind == ProviderKind.Direct ? 0 : 1).ThenBy(g => g.Key.ProviderName, StringComparer.OrdinalIgnoreCase)
            .Select(g => new CatalogGroup(g.Key.ProviderId, g.Key.ProviderName, g.Key.Kind,
                g.OrderBy(r => r.Name, StringComparer.OrdinalIgnoreCase).ThenBy(r => r.ModelId, StringComparer.Ordinal)
                 .Select(r => new CatalogModel(r.Id, r.ModelId, r.Name, r.Capabilities, r.ContextWindow, r.TierRequired, r.MaxOutputTokens))
                 .ToList()))
            .ToList();
        return new CatalogSnapshot(groups);
    }
}

/// <param name="MaxOutputTokens">The most a reply may be asked for (the chat's max-output setting is checked against it); null: unknown.</param>
public sealed record CatalogModel(long Id, string ModelId, string Name, ModelCapabilities Capabilities, int? ContextWindow, Tier TierRequired,
    int? MaxOutputTokens = null);

public sealed record CatalogGroup(int ProviderId, string Name, ProviderKind Kind, IReadOnlyList<CatalogModel> Models);

/// <summary>Every pickable model regardless of tier.</summary>
[ImmutableObject(true)]
public sealed record CatalogSnapshot(IReadOnlyList<CatalogGroup> Groups);

/// <summary>One tier's catalogue, with its compact JSON and ETag computed once per cache fill.</summary>
[ImmutableObject(true)]
public sealed record CatalogView(Tier Tier, IReadOnlyList<CatalogGroup> Groups, string Json, string ETag)
{
    static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    byte[]? utf8;

    /// <summary>The JSON as UTF-8, encoded once per cached instance (L1 hands out the same instance).</summary>
    [JsonIgnore]
    public byte[] Utf8 => utf8 ??= Encoding.UTF8.GetBytes(Json);

    [JsonIgnore]
    public int ModelCount => Groups.Sum(g => g.Models.Count);

    public CatalogModel? Find(long modelId)
    {
        foreach (var g in Groups)
            foreach (var m in g.Models)
                if (m.Id == modelId) return m;
        return null;
    }

    public bool IsLocked(CatalogModel model) => model.TierRequired > Tier;

    internal static CatalogView Build(Tier tier, CatalogSnapshot all)
    {
        // Wire shape kept short because it can hold thousands of models:
        // groups[{p, n, k: "direct"|"aggregator", c, m: [[id, modelId, name, caps, ctx, tier, locked, maxOutput]]}]
        var wire = new
        {
            tier = tier.ToString().ToLowerInvariant(),
            groups = all.Groups.Select(g => new
            {
                p = g.ProviderId,
                n = g.Name,
                k = g.Kind == ProviderKind.Direct ? "direct" : "aggregator",
                c = g.Models.Count,
                m = g.Models.Select(m => new object?[]
                {
                    m.Id, m.ModelId, m.Name, (int)m.Capabilities, m.ContextWindow,
                    m.TierRequired.ToString().ToLowerInvariant(), m.TierRequired > tier ? 1 : 0, m.MaxOutputTokens,
                }),
            }),
        };
        var json = JsonSerializer.Serialize(wire, JsonOptions);
        var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)).AsSpan(0, 12)) + "\"";
        return new CatalogView(tier, all.Groups, json, etag);
    }
}
