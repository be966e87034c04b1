namespace Aggregator.Web.Features.Health;

/// <summary>
/// The <c>aggregator_health</c> extension field of a /v1/models object. OpenAI's SDKs ignore fields they do not know,
/// so callers that want it read it from the raw JSON. snake_case: these are wire names.
/// </summary>
public sealed record HealthExtension(string status, HealthExtension.Window last_hour, HealthExtension.Window last_day)
{
    /// <param name="success_rate">Served / (served + failed) requests; null without requests.</param>
    public sealed record Window(int requests, double? success_rate, double? p50_time_to_first_token_ms, double? p50_output_tokens_per_second);

    public static HealthExtension Of(ModelHealth h) => new(Status(h.Status), Of(h.Hour), Of(h.Day));

    static string Status(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        HealthStatus.Failing => "failing",
        _ => "no_recent_traffic",
    };

    static Window Of(HealthFigures f) => new(f.Requests, Round(f.SuccessRate, 4), Round(f.FirstTokenMs, 0), Round(f.TokensPerSecond, 1));

    static double? Round(double? value, int digits) => value is { } v ? Math.Round(v, digits) : null;
}
