using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Aggregator.Web.Features.Telemetry;

/// <summary>
/// OpenTelemetry for the whole app: metrics (ASP.NET Core, HttpClient, runtime and <see cref="GatewayTelemetry"/>) scraped
/// by Prometheus at /metrics, traces from the hub call or /v1 request through the router to the upstream request (OTLP
/// export when a collector is configured), and the trace id on every log line.
/// </summary>
public static class TelemetryExtensions
{
    /// <summary>SignalR's server activity source (one span per hub invocation, .NET 9 and later).</summary>
    const string SignalRSource = "Microsoft.AspNetCore.SignalR.Server";

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section)
            .Validate(o => o.MetricsPort is null or > 0 and < 65536, "Telemetry:MetricsPort must be a TCP port (1-65535).")
            .Validate(o => string.IsNullOrEmpty(o.OtlpEndpoint) || Uri.TryCreate(o.OtlpEndpoint, UriKind.Absolute, out _),
                "Telemetry:OtlpEndpoint must be an absolute URL, e.g. http://otel-collector:4317.")
            .ValidateOnStart();
        services.AddSingleton<GatewayTelemetry>();

        // Every log line carries the trace and span it was written in; the console shows them (scopes on).
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        builder.Logging.AddSimpleConsole(o => o.IncludeScopes = true);
        // SignalR's dispatcher logs every exception out of a hub method, a refusal (HubException) included, as an Error with
        // its stack trace. HubCallOutcomes, a filter around every hub method, is where they are logged instead: a refusal as
        // one Information line, anything else as an Error. The dispatcher's own lines below Critical would only repeat them.
        builder.Logging.AddFilter("Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher", LogLevel.Critical);

        var settings = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var otlp = !string.IsNullOrWhiteSpace(settings.OtlpEndpoint) ? settings.OtlpEndpoint
            : builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(settings.ServiceName, serviceInstanceId: builder.Configuration["Cluster:NodeName"]))
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddRuntimeInstrumentation()
                    .AddMeter(GatewayTelemetry.Name)
                    .AddPrometheusExporter();
                if (!string.IsNullOrWhiteSpace(otlp)) metrics.AddOtlpExporter(o => Point(o, otlp));
            })
            .WithTracing(tracing =>
            {
                tracing.AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments(MetricsAccess.Path))
                    .AddHttpClientInstrumentation()
                    .AddSource(GatewayTelemetry.Name, SignalRSource);
                if (!string.IsNullOrWhiteSpace(otlp)) tracing.AddOtlpExporter(o => Point(o, otlp));
            });
        return builder;
    }

    /// <summary>/metrics for Prometheus, behind <see cref="MetricsAccess"/>.</summary>
    public static WebApplication MapTelemetry(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value.MetricsPort is not null)
            app.Use(MetricsAccess.OnlyMetricsOnItsPortAsync);
        app.MapPrometheusScrapingEndpoint(MetricsAccess.Path, meterProvider: null, configureBranchedPipeline: MetricsAccess.Guard, optionsName: null);
        return app;
    }

    static void Point(OtlpExporterOptions o, string endpoint) => o.Endpoint = new Uri(endpoint);
}
