using Aggregator.Web.Cluster;
using Microsoft.Extensions.Caching.Hybrid;
using StackExchange.Redis;

namespace Aggregator.Web.Infrastructure;

public static class CachingExtensions
{
    /// <summary>HybridCache: in-process L1 always, Redis L2 when <c>ConnectionStrings:Redis</c> is set.</summary>
    public static WebApplicationBuilder AddCaching(this WebApplicationBuilder builder)
    {
        var redis = builder.Configuration.GetConnectionString("Redis");
        if (!string.IsNullOrWhiteSpace(redis))
            builder.Services.AddStackExchangeRedisCache(o =>
            {
                // Fail fast while Redis is down: HybridCache then serves from L1 or the database instead of waiting.
                o.ConfigurationOptions = RedisConnection.FailFast(ConfigurationOptions.Parse(redis));
                o.InstanceName = builder.Configuration["Redis:InstanceName"] ?? "aggregator:";
            });
        builder.Services.AddHybridCache(o =>
        {
            o.MaximumPayloadBytes = 64 * 1024 * 1024;
            o.DefaultEntryOptions = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(10), LocalCacheExpiration = TimeSpan.FromMinutes(10) };
        });
        return builder;
    }
}
