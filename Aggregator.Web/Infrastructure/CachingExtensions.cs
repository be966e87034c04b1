using Microsoft.Extensions.Caching.Hybrid;

namespace Aggregator.Web.Infrastructure;

public static class CachingExtensions
{
    /// <summary>HybridCache: in-process L1 always, Redis L2 when <c>ConnectionStrings:Redis</c> is set.</summary>
    public static WebApplicationBuilder AddCaching(this WebApplicationBuilder builder)
    {
        var redis = builder.Configuration.GetConnectionString("Redis");
        if (!string.IsNullOrWhiteSpace(redis))
            builder.Services.AddStackExchangeRedisCache(o => { o.Configuration = redis; o.InstanceName = builder.Configuration["Redis:InstanceName"] ?? "aggregator:"; });
        builder.Services.AddHybridCache(o =>
        {
            o.MaximumPayloadBytes = 64 * 1024 * 1024;
            o.DefaultEntryOptions = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(10), LocalCacheExpiration = TimeSpan.FromMinutes(10) };
        });
        return builder;
    }
}
