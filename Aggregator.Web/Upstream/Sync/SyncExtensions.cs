using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Telemetry;

namespace Aggregator.Web.Upstream.Sync;

public static class SyncExtensions
{
    public static IServiceCollection AddModelSync(this IServiceCollection services)
    {
        services.AddOptions<SyncOptions>().BindConfiguration(SyncOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingletonTimeProvider();
        services.AddTransient<AttemptCounter.Handler>();
        var client = services.AddHttpClient(ModelListClient.HttpClientName, c => c.DefaultRequestHeaders.UserAgent.ParseAdd("Aggregator/1.0"));
        client.AddResilienceHandler("model-sync", (pipeline, context) =>
            {
                var o = context.ServiceProvider.GetRequiredService<IOptions<SyncOptions>>().Value;
                pipeline
                    .AddTimeout(o.TotalTimeout)
                    .AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = Math.Max(o.MaxRetries, 1),
                        ShouldHandle = o.MaxRetries == 0 ? _ => PredicateResult.False() : new HttpRetryStrategyOptions().ShouldHandle,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        Delay = o.RetryBaseDelay,
                        MaxDelay = TimeSpan.FromSeconds(30),
                    })
                    .AddTimeout(o.AttemptTimeout)
                    // A sync logs one line per run (its attempts are in the run): each retry is a debug detail,
                    // not a warning with a stack trace.
                    .ConfigureTelemetry(new TelemetryOptions(context.GetOptions<TelemetryOptions>())
                    {
                        SeverityProvider = _ => ResilienceEventSeverity.Debug,
                    });
            });
        // Inside the retry handler, so it sees every attempt.
        client.AddHttpMessageHandler<AttemptCounter.Handler>();
        services.AddSingleton<ModelListClient>();
        services.AddSingleton<SyncLock>();
        services.AddScoped<ModelSync>();
        services.AddSingleton<SyncScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<SyncScheduler>());
        return services;
    }

    static void TryAddSingletonTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
            services.AddSingleton(TimeProvider.System);
    }
}
