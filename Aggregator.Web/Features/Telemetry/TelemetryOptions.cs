namespace Aggregator.Web.Features.Telemetry;

/// <summary>Settings under <c>Telemetry</c>: who may scrape /metrics and where traces go.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>
    /// A Prometheus scraper sends <c>Authorization: Bearer &lt;ScrapeToken&gt;</c>; empty means only a signed-in
    /// admin (or the metrics port) can read /metrics.
    /// </summary>
    public string? ScrapeToken { get; set; }

    /// <summary>
    /// A port (one the app listens on, e.g. listed in ASPNETCORE_URLS) that serves /metrics without credentials and
    /// nothing else: for a scraper on a private network. Null: /metrics is served on every port, with credentials.
    /// </summary>
    public int? MetricsPort { get; set; }

    /// <summary>OTLP collector for traces and metrics; OTEL_EXPORTER_OTLP_ENDPOINT works too. Empty: no OTLP export.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>service.name of every span and metric.</summary>
    public string ServiceName { get; set; } = "aggregator";
}
