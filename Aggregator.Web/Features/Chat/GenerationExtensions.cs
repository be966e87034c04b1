using Aggregator.Web.Cluster;

namespace Aggregator.Web.Features.Chat;

public static class GenerationExtensions
{
    /// <summary>Generations, their node lease, the resume copy for other nodes and the sweeper of orphaned replies.</summary>
    public static IServiceCollection AddGenerations(this IServiceCollection services, bool clustered)
    {
        services.AddOptions<NodeLeaseOptions>().BindConfiguration("Cluster:NodeLease").ValidateDataAnnotations().ValidateOnStart();
        if (clustered)
        {
            services.AddSingleton<INodeLeases, RedisNodeLeases>();
            services.AddSingleton<IGenerationStream, RedisGenerationStream>();
        }
        else
        {
            services.AddSingleton<INodeLeases, InProcessNodeLeases>();
            services.AddSingleton<IGenerationStream, LocalGenerationStream>();
        }
        services.AddSingleton<GenerationPipeline>();
        services.AddSingleton<GenerationManager>();
        services.AddSingleton<GenerationSweeper>();
        // Order matters: hosted services stop in reverse, so the lease is released only after this node's replies are saved.
        services.AddSingleton<NodeLeaseHeartbeat>();
        services.AddHostedService(sp => sp.GetRequiredService<NodeLeaseHeartbeat>());
        services.AddHostedService(sp => sp.GetRequiredService<GenerationSweeper>());
        services.AddHostedService(sp => sp.GetRequiredService<GenerationManager>());
        return services;
    }
}
