using System.Collections.Frozen;
using Aggregator.Web.Data;

namespace Aggregator.Web.Upstream.Routing;

/// <summary>What resolution needs of one catalogue row.</summary>
public sealed record ModelRoute(
    long Id, int ProviderId, string ModelId, string Name, Tier TierRequired, bool Available,
    int? MaxOutputTokens, decimal? InputPricePerMTok, decimal? OutputPricePerMTok)
{
    /// <summary>Chat rows go to chat completions, embedding rows to embeddings; nothing else is routed.</summary>
    public ModelType Type { get; init; }
    /// <summary>Hidden from catalogues (the API lists and resolves only what a catalogue shows).</summary>
    public bool Hidden { get; init; }
}

/// <summary>What resolution and the adapters need of one provider.</summary>
public sealed record ProviderRoute(int Id, string Name, string DisplayName, ApiStandard Standard, string BaseUrl, string? ModelsUrl, bool Enabled, bool AllowFallback)
{
    public ProviderKind Kind { get; init; }
}

/// <summary>A key row as stored; live health lives in <see cref="IApiKeyPool"/>, not here.</summary>
public sealed record KeyRow(
    long Id, int ProviderId, string EncryptedSecret, bool Active, DateTime? CooldownUntil,
    int ConsecutiveFailures, DateTime? LastUsedAt);

/// <summary>
/// An immutable picture of models, providers and keys, replaced whole on reload.
/// It only describes configuration: rotation and health state survive reloads in the key pool.
/// </summary>
public sealed class RoutingSnapshot
{
    public static readonly RoutingSnapshot Empty = new([], [], [], DateTime.MinValue);

    public RoutingSnapshot(IEnumerable<ModelRoute> models, IEnumerable<ProviderRoute> providers, IEnumerable<KeyRow> keys, DateTime loadedAt)
    {
        Models = models.ToFrozenDictionary(m => m.Id);
        Providers = providers.ToFrozenDictionary(p => p.Id);
        Keys = keys.ToArray();
        LoadedAt = loadedAt;
        // Same model id on several providers: the candidates for fallback.
        ModelsByUpstreamId = Models.Values
            .GroupBy(m => m.ModelId, StringComparer.Ordinal)
            .Where(g => g.Skip(1).Any())
            .ToFrozenDictionary(g => g.Key, g => g.OrderBy(m => m.Id).ToArray(), StringComparer.Ordinal);
    }

    public FrozenDictionary<long, ModelRoute> Models { get; }
    public FrozenDictionary<int, ProviderRoute> Providers { get; }
    public FrozenDictionary<string, ModelRoute[]> ModelsByUpstreamId { get; }
    public IReadOnlyList<KeyRow> Keys { get; }
    /// <summary>When the load started (UTC): pool state changed after this is newer than the rows.</summary>
    public DateTime LoadedAt { get; }
}
