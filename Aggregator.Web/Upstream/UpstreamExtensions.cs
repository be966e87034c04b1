using Aggregator.Web.Cluster;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Protocols;
using Aggregator.Web.Upstream.Routing;
using Aggregator.Web.Upstream.Usage;

namespace Aggregator.Web.Upstream;

public static class UpstreamExtensions
{
    /// <summary>The router and everything it needs: key pool, adapters, usage, quotas, background writers and the probe.</summary>
    public static IServiceCollection AddUpstream(this IServiceCollection services)
    {
        services.AddOptions<RouterOptions>().BindConfiguration(RouterOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.BackoffMax >= o.BackoffBase, "Router:BackoffMax must not be below Router:BackoffBase.")
            .Validate(o => o.MaxBufferedBodyBytes <= o.MaxResponseBytes, "Router:MaxBufferedBodyBytes must not exceed Router:MaxResponseBytes.")
            .ValidateOnStart();
        services.AddOptions<KeyHealthOptions>().BindConfiguration(KeyHealthOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.MaxCooldown >= o.BaseCooldown, "KeyHealth:MaxCooldown must not be below KeyHealth:BaseCooldown.")
            .ValidateOnStart();
        services.AddOptions<QuotaOptions>().BindConfiguration(QuotaOptions.Section)
            .Validate(o => new[] { o.Free, o.Pro, o.Max }.All(ValidLimits), "Quotas: every limit must be a positive number (omit it for unlimited).")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(UpstreamConnector.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = TimeSpan.FromSeconds(10),
                AutomaticDecompression = System.Net.DecompressionMethods.All,
                // A provider API never redirects a POST; following one could carry the request (and key) elsewhere.
                AllowAutoRedirect = false,
            })
            // No log scope and log lines per upstream call (the router logs what matters): they were a tenth of the relay's CPU.
            .RemoveAllLoggers();

        services.AddSharedState<IApiKeyPool, ApiKeyPool, RedisApiKeyPool>();
        services.AddSingleton<RoutingTable>();
        services.AddSingleton<RouteResolver>();
        services.AddSingleton<ProviderClients>();
        services.AddSingleton<UpstreamConnector>();
        services.AddSharedState<ITierQuotas, TierQuotas, RedisTierQuotas>();
        services.AddSharedState<ITokenSpend, TokenSpend, RedisTokenSpend>();
        services.AddSingleton<UsageRecorder>();
        services.AddSingleton<KeyStateWriter>();
        services.AddSingleton<KeyProbe>();
        services.AddHostedService(sp => sp.GetRequiredService<UsageRecorder>());
        services.AddHostedService(sp => sp.GetRequiredService<KeyStateWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<KeyProbe>());
        services.AddSingleton<IChatRouter, ChatRouter>();
        services.AddSingleton<EmbeddingRouter>();
        return services;
    }

    static bool ValidLimits(TierLimits l) =>
        l.RequestsPerMinute is null or > 0 && l.MessagesPerDay is null or > 0 && l.TokensPerDay is null or > 0;
}
