using Microsoft.Extensions.Logging.Abstractions;
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
                    // A sync logs one line per run (ModelSync; its attempts are in the run row): the pipeline logs
                    // nothing (at debug it wrote each retry and the run's end with a stack trace), its metrics stay.
                    .ConfigureTelemetry(new TelemetryOptions(context.GetOptions<TelemetryOptions>())
                    {
                        LoggerFactory = NullLoggerFactory.Instance,
                    });
            });
        // Inside the retry handler, so it sees every attempt.
        client.AddHttpMessageHandler<AttemptCounter.Handler>();
        // The factory's request logging writes a line per attempt, a failed one with its stack trace: the run's one line replaces it.
        client.RemoveAllLoggers();
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
