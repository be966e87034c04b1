namespace Aggregator.Web.Cluster;

/// <summary>
/// What several nodes share. Every piece of shared state has one interface and two implementations:
/// in-process (the embedded default, one node) and Redis (when <c>ConnectionStrings:Redis</c> is set).
/// PostgreSQL and Redis are the only coordination; there is no node-to-node protocol.
/// </summary>
public static class ClusterExtensions
{
    public static WebApplicationBuilder AddCluster(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var node = NodeIdentity.Create(builder.Configuration["Cluster:NodeName"]);
        services.AddSingleton(node);
        var redis = builder.Configuration.GetConnectionString("Redis");
        var clustered = !string.IsNullOrWhiteSpace(redis);
        services.AddSingleton(new ClusterMode(clustered));
        if (clustered)
        {
            var prefix = builder.Configuration["Redis:InstanceName"] ?? "aggregator:";
            services.AddSingleton(sp => new RedisConnection(redis!, prefix, sp.GetRequiredService<ILogger<RedisConnection>>()));
            services.AddSingleton<IClusterBus, RedisClusterBus>();
            services.AddHostedService<RedisWarmUp>();
            services.AddOptions<LeaderOptions>().BindConfiguration("Cluster").ValidateDataAnnotations().ValidateOnStart();
            services.AddSingleton<RedisLeaderLease>();
            services.AddSingleton<ILeaderLease>(sp => sp.GetRequiredService<RedisLeaderLease>());
            services.AddHostedService(sp => sp.GetRequiredService<RedisLeaderLease>());
        }
        else
        {
            services.AddSingleton<IClusterBus, InProcessClusterBus>();
            services.AddSingleton<ILeaderLease, SingleNodeLeader>();
        }
        services.AddSingleton<ClusterChanges>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterChanges>());
        return builder;
    }
}

/// <summary>Whether shared state lives in Redis (several nodes possible) or in this process.</summary>
public sealed record ClusterMode(bool UsesRedis);

/// <summary>
/// Connects to Redis while the app starts (for at most the connect timeout), so a node serves its first
/// requests on the shared counters and pool rather than on local fallbacks; a Redis that is down does not
/// hold start-up longer than that.
/// </summary>
sealed class RedisWarmUp(RedisConnection redis) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Task connecting = Task.Run(() => redis.Multiplexer, cancellationToken);
        await connecting.WaitAsync(TimeSpan.FromSeconds(3), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
