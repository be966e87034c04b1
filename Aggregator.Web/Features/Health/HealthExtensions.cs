using Aggregator.Web.Features.Account;
using Aggregator.Web.Features.Catalog;

namespace Aggregator.Web.Features.Health;

public static class HealthExtensions
{
    public static IServiceCollection AddModelHealth(this IServiceCollection services)
    {
        services.AddOptions<HealthOptions>().BindConfiguration(HealthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ModelHealthBoard>();
        services.AddSingleton<HealthProbe>();
        services.AddSingleton<HealthKeeper>();
        services.AddHostedService(sp => sp.GetRequiredService<HealthKeeper>());
        return services;
    }

    /// <summary>
    /// GET /api/catalog/health: the status and figures of the caller's catalogue models that had traffic in the last day
    /// (a model left out has none: "no recent traffic"). Apart from /api/catalog because it changes every refresh while
    /// the catalogue itself is cached for long; the selector asks for it each time it opens.
    /// </summary>
    public static IEndpointRouteBuilder MapModelHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/catalog/health", async (HttpContext http, CatalogCache catalog, ModelHealthBoard health, CancellationToken ct) =>
        {
            var view = await catalog.GetAsync(http.User.GetTier(), ct);
            var board = await health.GetAsync(ct);
            var models = new Dictionary<string, HealthWire>();
            foreach (var group in view.Groups)
                foreach (var m in group.Models)
                    if (board.Models.TryGetValue(m.Id, out var h))
                        models[m.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new HealthWire(WireName(h.Status), h.StatusText, h.Summary());
            http.Response.Headers.CacheControl = "private, no-store";
            return Results.Json(new { at = board.At, models });
        }).RequireAuthorization();
        return endpoints;
    }

    /// <summary>The status as CSS and scripts name it.</summary>
    public static string WireName(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        HealthStatus.Failing => "failing",
        _ => "quiet",
    };

    /// <param name="S">healthy, degraded, failing, quiet.</param>
    /// <param name="Label">What a screen reader says after the name ("failing").</param>
    /// <param name="Figures">"98% ok of 120 · TTFT 420 ms · 55 tok/s, last hour".</param>
    sealed record HealthWire(string S, string Label, string Figures);
}
