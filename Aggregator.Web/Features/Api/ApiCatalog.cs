using System.Runtime.CompilerServices;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Features.Api;

/// <summary>One catalogue model as the API names it: <c>provider-slug/model-id</c>; chat or embedding.</summary>
public sealed record ApiModel(string Id, CatalogModel Model, int ProviderId, string ProviderSlug, ProviderKind Kind, decimal? Price, bool Locked,
    ModelType Type = ModelType.Chat, ApiStandard Standard = ApiStandard.OpenAI);

/// <summary>
/// The caller's catalogue in API terms, built on <see cref="CatalogCache"/>'s per-tier view (so tiers,
/// hidden and unavailable models are as the chat has them) plus the provider slugs of the routing table.
/// Embedding models (which the chat's catalogue leaves out) come from the routing table under the same rules:
/// available, not hidden, provider enabled with an active key, locked above the tier.
/// Built once per cached view and reused until the catalogue changes: a look-up is a dictionary hit.
/// </summary>
public sealed class ApiCatalog(CatalogCache catalog, RoutingTable routing, IApiKeyPool pool, TimeProvider time)
{
    sealed record Index(RoutingSnapshot Snapshot, IReadOnlyList<ApiModel> All, Dictionary<string, ApiModel> ById, Dictionary<string, ApiModel[]> ByModelId);

    readonly ConditionalWeakTable<CatalogView, Index> _indexes = new();

    /// <summary>What the caller may use: not locked, allowed by the token.</summary>
    public async ValueTask<IEnumerable<ApiModel>> ListAsync(ApiCaller caller, CancellationToken ct)
    {
        var index = await IndexAsync(caller.Tier, ct);
        return index.All.Where(m => !m.Locked && caller.Models.Allows(m.Id, m.Model.ModelId));
    }

    /// <summary>
    /// The model a request names, or an <see cref="ApiException"/>: 404 when the caller's tier has no
    /// such model, 403 when it exists but is above the tier or outside the token's allow-list.
    /// A bare id (no provider) picks among the providers serving it: a provider with a healthy key
    /// first, then the lowest price, then direct before aggregator.
    /// </summary>
    /// <param name="type">What the endpoint serves: a chat model asked for embeddings (or the reverse) is a 400.</param>
    public async ValueTask<ApiModel> ResolveAsync(ApiCaller caller, string requested, CancellationToken ct, ModelType type = ModelType.Chat)
    {
        var index = await IndexAsync(caller.Tier, ct);
        if (index.ById.TryGetValue(requested, out var exact)) return Usable(caller, exact, type);
        if (!index.ByModelId.TryGetValue(requested, out var serving)) throw new ApiException(ApiError.ModelNotFound(requested));

        var ofType = serving.Where(m => m.Type == type).ToList();
        if (ofType.Count == 0) return Usable(caller, serving[0], type); // says why
        var usable = ofType.Where(m => !m.Locked && caller.Models.Allows(m.Id, m.Model.ModelId)).ToList();
        if (usable.Count == 0) return Usable(caller, ofType[0], type); // says why
        if (usable.Count == 1) return usable[0];
        var healthy = HealthyProviders();
        return usable
            .OrderBy(m => healthy.Contains(m.ProviderId) ? 0 : 1)
            .ThenBy(m => m.Price ?? decimal.MaxValue)
            .ThenBy(m => m.Kind == ProviderKind.Direct ? 0 : 1)
            .ThenBy(m => m.Id, StringComparer.Ordinal)
            .First();
    }

    static ApiModel Usable(ApiCaller caller, ApiModel model, ModelType type)
    {
        if (model.Type != type)
            throw new ApiException(type == ModelType.Embedding
                ? ApiError.BadRequest($"The model '{model.Id}' is not an embedding model; it answers POST /v1/chat/completions.", "model", "model_not_supported")
                : ApiError.BadRequest($"The model '{model.Id}' is an embedding model; send it to POST /v1/embeddings.", "model", "model_not_supported"));
        if (model.Locked)
            throw new ApiException(ApiError.ModelNotAllowed(
                $"The model '{model.Id}' needs the {model.Model.TierRequired.ToString().ToLowerInvariant()} tier; your account is on {caller.Tier.ToString().ToLowerInvariant()}."));
        if (!caller.Models.Allows(model.Id, model.Model.ModelId))
            throw new ApiException(ApiError.ModelNotAllowed($"This API token is not allowed to use the model '{model.Id}'."));
        return model;
    }

    HashSet<int> HealthyProviders()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return pool.Describe().Where(k => k.Active && (k.CooldownUntil is null || k.CooldownUntil <= now)).Select(k => k.ProviderId).ToHashSet();
    }

    async ValueTask<Index> IndexAsync(Tier tier, CancellationToken ct)
    {
        var view = await catalog.GetAsync(tier, ct);
        var snapshot = await routing.GetAsync(ct);
        if (_indexes.TryGetValue(view, out var index) && ReferenceEquals(index.Snapshot, snapshot)) return index;
        index = Build(view, snapshot);
        _indexes.AddOrUpdate(view, index);
        return index;
    }

    static Index Build(CatalogView view, RoutingSnapshot snapshot)
    {
        var all = new List<ApiModel>(view.ModelCount);
        foreach (var group in view.Groups)
        {
            // A provider the routing table has not loaded yet cannot be routed to either.
            if (!snapshot.Providers.TryGetValue(group.ProviderId, out var provider)) continue;
            foreach (var m in group.Models)
            {
                var route = snapshot.Models.GetValueOrDefault(m.Id);
                var price = route is null ? null : route.InputPricePerMTok + route.OutputPricePerMTok;
                all.Add(new ApiModel(provider.Name + "/" + m.ModelId, m, group.ProviderId, provider.Name, group.Kind, price, view.IsLocked(m),
                    ModelType.Chat, provider.Standard));
            }
        }
        AddEmbeddingModels(all, view.Tier, snapshot);
        var byId = new Dictionary<string, ApiModel>(StringComparer.Ordinal);
        foreach (var m in all) byId.TryAdd(m.Id, m);
        var byModelId = all.GroupBy(m => m.Model.ModelId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        return new Index(snapshot, all, byId, byModelId);
    }

    static void AddEmbeddingModels(List<ApiModel> all, Tier tier, RoutingSnapshot snapshot)
    {
        var keyed = snapshot.Keys.Where(k => k.Active).Select(k => k.ProviderId).ToHashSet();
        foreach (var m in snapshot.Models.Values.Where(m => m.Type == ModelType.Embedding && m.Available && !m.Hidden)
                     .OrderBy(m => m.ProviderId).ThenBy(m => m.ModelId, StringComparer.Ordinal))
        {
            if (!snapshot.Providers.TryGetValue(m.ProviderId, out var provider) || !provider.Enabled || !keyed.Contains(provider.Id)) continue;
            var model = new CatalogModel(m.Id, m.ModelId, m.Name, ModelCapabilities.None, null, m.TierRequired);
            all.Add(new ApiModel(provider.Name + "/" + m.ModelId, model, provider.Id, provider.Name, provider.Kind, m.InputPricePerMTok,
                Locked: tier < m.TierRequired, ModelType.Embedding, provider.Standard));
        }
    }
}
