using System.Security.Cryptography;
using System.Text;
using Aggregator.Web.Features.Account;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Aggregator.Web.Features.Telemetry;

/// <summary>
/// Who may read /metrics: a signed-in admin, a scraper with <c>Authorization: Bearer &lt;Telemetry:ScrapeToken&gt;</c>,
/// or anyone reaching <see cref="TelemetryOptions.MetricsPort"/>. Everyone else gets a bare 401 (a scraper cannot follow a
/// login redirect). The figures are live: never stored by a proxy.
/// </summary>
public static class MetricsAccess
{
    public const string Path = "/metrics";

    /// <summary>The branch in front of the Prometheus exporter.</summary>
    public static void Guard(IApplicationBuilder branch) => branch.Use(async (http, next) =>
    {
        http.Response.Headers.CacheControl = "no-store";
        if (await AllowedAsync(http))
        {
            await next(http);
            return;
        }
        if (http.Features.Get<IStatusCodePagesFeature>() is { } pages) pages.Enabled = false; // a 401, not an HTML error page
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        http.Response.Headers.WWWAuthenticate = "Bearer realm=\"metrics\"";
    });

    /// <summary>On the metrics port nothing but /metrics is served: it is meant for a private network, not for users.</summary>
    public static Task OnlyMetricsOnItsPortAsync(HttpContext http, RequestDelegate next)
    {
        var port = http.RequestServices.GetRequiredService<IOptionsMonitor<TelemetryOptions>>().CurrentValue.MetricsPort;
        if (port is not { } p || http.Connection.LocalPort != p || http.Request.Path.Equals(Path, StringComparison.OrdinalIgnoreCase)) return next(http);
        http.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    static async Task<bool> AllowedAsync(HttpContext http)
    {
        var o = http.RequestServices.GetRequiredService<IOptionsMonitor<TelemetryOptions>>().CurrentValue;
        if (o.MetricsPort is { } port && http.Connection.LocalPort == port) return true;
        if (!string.IsNullOrEmpty(o.ScrapeToken) && Bearer(http.Request) is { } presented && SameSecret(presented, o.ScrapeToken)) return true;
        if (http.User.Identity?.IsAuthenticated != true) return false;
        var authorization = http.RequestServices.GetRequiredService<IAuthorizationService>();
        return (await authorization.AuthorizeAsync(http.User, AccountExtensions.AdminPolicy)).Succeeded;
    }

    static string? Bearer(HttpRequest request) =>
        request.Headers[HeaderNames.Authorization].ToString() is { } value && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? value["Bearer ".Length..].Trim() : null;

    /// <summary>Constant time, whatever the lengths: both sides are hashed to the same size first.</summary>
    static bool SameSecret(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
