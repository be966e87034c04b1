using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Microsoft.Net.Http.Headers;

namespace Aggregator.Web.Features.Catalog;

public static class CatalogExtensions
{
    public static IServiceCollection AddCatalog(this IServiceCollection services)
    {
        services.AddSingleton<CatalogCache>();
        services.AddSingleton<ICommittedChangesListener>(sp => sp.GetRequiredService<CatalogCache>());
        return services;
    }

    /// <summary>GET /api/catalog: the caller's catalogue as compact JSON, revalidated by ETag.</summary>
    public static IEndpointRouteBuilder MapCatalog(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/catalog", async (HttpContext http, CatalogCache catalog, CancellationToken ct) =>
        {
            var view = await catalog.GetAsync(http.User.GetTier(), ct);
            var headers = http.Response.Headers;
            headers.ETag = view.ETag;
            // Private (tier-specific) and always revalidated: a 304 costs a round trip but no payload.
            headers.CacheControl = "private, no-cache";
            headers.Vary = HeaderNames.Cookie;
            if (http.Request.Headers.IfNoneMatch.Contains(view.ETag))
                return Results.StatusCode(StatusCodes.Status304NotModified);
            return Results.Bytes(view.Utf8, "application/json; charset=utf-8");
        }).RequireAuthorization();
        return endpoints;
    }
}
