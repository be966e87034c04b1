using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Keys;

namespace Aggregator.Web.Upstream.Routing;

/// <summary>One provider that can serve the request, with its catalogue row.</summary>
public readonly record struct RouteCandidate(ModelRoute Model, ProviderRoute Provider);

/// <summary>The providers to try, in order: the requested row first, then fallbacks serving the same model id.</summary>
public sealed record RoutePlan(RouteCandidate Primary, RouteCandidate[] Fallbacks)
{
    public int Count => 1 + Fallbacks.Length;
    public RouteCandidate this[int index] => index == 0 ? Primary : Fallbacks[index - 1];
}

/// <summary>Model row → provider → tier → availability → provider enabled → an active key; each refusal says which.</summary>
public sealed class RouteResolver(RoutingTable table, IApiKeyPool pool)
{
    public ValueTask<RoutePlan> ResolveAsync(ChatRequest request, CancellationToken cancellationToken) =>
        ResolveAsync(request.ModelId, request.UserTier, cancellationToken);

    /// <summary>The plan for catalogue row <paramref name="modelId"/> asked for by a user of <paramref name="tier"/> (chat or embeddings).</summary>
    public async ValueTask<RoutePlan> ResolveAsync(long modelId, Tier tier, CancellationToken cancellationToken)
    {
        var snapshot = await table.GetAsync(cancellationToken);
        if (!snapshot.Models.ContainsKey(modelId))
            snapshot = await table.ReloadAfterMissAsync(cancellationToken); // added since the last load?
        try
        {
            return Resolve(snapshot, modelId, tier);
        }
        catch (RouterException ex) when (ex.Error is RouterError.NoActiveKey or RouterError.ProviderDisabled)
        {
            // An admin may just have added a key or enabled the provider: look again before refusing.
            var fresh = await table.ReloadAfterMissAsync(cancellationToken);
            if (ReferenceEquals(fresh, snapshot)) throw;
            return Resolve(fresh, modelId, tier);
        }
    }

    public RoutePlan Resolve(RoutingSnapshot snapshot, ChatRequest request) => Resolve(snapshot, request.ModelId, request.UserTier);

    public RoutePlan Resolve(RoutingSnapshot snapshot, long modelId, Tier tier)
    {
        if (!snapshot.Models.TryGetValue(modelId, out var model))
            throw new RouterException(RouterError.ModelNotFound, $"Model {modelId} does not exist.");
        if (tier < model.TierRequired)
            throw new RouterException(RouterError.TierTooLow, $"{model.Name} needs the {model.TierRequired} tier; your tier is {tier}.");
        if (!model.Available)
            throw new RouterException(RouterError.ModelUnavailable, $"{model.Name} is no longer offered by its provider.");
        if (!snapshot.Providers.TryGetValue(model.ProviderId, out var provider) || !provider.Enabled)
            throw new RouterException(RouterError.ProviderDisabled, $"{model.Name} is unavailable: its provider {provider?.DisplayName ?? model.ProviderId.ToString()} is disabled.");

        var fallbacks = provider.AllowFallback ? Fallbacks(snapshot, model, tier) : [];
        if (pool.CountActive(provider.Id) == 0)
        {
            if (fallbacks.Length == 0)
                throw new RouterException(RouterError.NoActiveKey, $"{model.Name} is unavailable: {provider.DisplayName} has no active API key.");
            return new RoutePlan(fallbacks[0], fallbacks[1..]);
        }
        return new RoutePlan(new RouteCandidate(model, provider), fallbacks);
    }

    RouteCandidate[] Fallbacks(RoutingSnapshot snapshot, ModelRoute model, Tier tier)
    {
        if (!snapshot.ModelsByUpstreamId.TryGetValue(model.ModelId, out var same)) return [];
        List<RouteCandidate>? result = null;
        foreach (var other in same)
        {
            if (other.Id == model.Id || !other.Available || tier < other.TierRequired) continue;
            if (!snapshot.Providers.TryGetValue(other.ProviderId, out var provider) || !provider.Enabled) continue;
            if (pool.CountActive(provider.Id) == 0) continue;
            (result ??= []).Add(new RouteCandidate(other, provider));
        }
        return result?.ToArray() ?? [];
    }
}
