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
    public async ValueTask<RoutePlan> ResolveAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        var snapshot = await table.GetAsync(cancellationToken);
        if (!snapshot.Models.ContainsKey(request.ModelId))
            snapshot = await table.ReloadAfterMissAsync(cancellationToken); // added since the last load?
        try
        {
            return Resolve(snapshot, request);
        }
        catch (RouterException ex) when (ex.Error is RouterError.NoActiveKey or RouterError.ProviderDisabled)
        {
            // An admin may just have added a key or enabled the provider: look again before refusing.
            var fresh = await table.ReloadAfterMissAsync(cancellationToken);
            if (ReferenceEquals(fresh, snapshot)) throw;
            return Resolve(fresh, request);
        }
    }

    public RoutePlan Resolve(RoutingSnapshot snapshot, ChatRequest request)
    {
        if (!snapshot.Models.TryGetValue(request.ModelId, out var model))
            throw new RouterException(RouterError.ModelNotFound, $"Model {request.ModelId} does not exist.");
        if (request.UserTier < model.TierRequired)
            throw new RouterException(RouterError.TierTooLow, $"{model.Name} needs the {model.TierRequired} tier; your tier is {request.UserTier}.");
        if (!model.Available)
            throw new RouterException(RouterError.ModelUnavailable, $"{model.Name} is no longer offered by its provider.");
        if (!snapshot.Providers.TryGetValue(model.ProviderId, out var provider) || !provider.Enabled)
            throw new RouterException(RouterError.ProviderDisabled, $"{model.Name} is unavailable: its provider {provider?.DisplayName ?? model.ProviderId.ToString()} is disabled.");

        var fallbacks = provider.AllowFallback ? Fallbacks(snapshot, model, request.UserTier) : [];
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
