using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// Who may open the hub from a browser. A browser sends the auth cookie to the hub whatever page asks
/// (WebSockets know no CORS), so a page on another port of the same host could read a user's chats.
/// </summary>
public sealed class HubOriginOptions
{
    /// <summary>
    /// Origins (scheme://host[:port]) allowed besides the app's own, e.g. the public https origin when
    /// a proxy terminates TLS without forwarded headers.
    /// </summary>
    public string[] AllowedOrigins { get; set; } = [];
}

public static class HubOrigin
{
    public const string Section = "Hub";

    public static IServiceCollection AddHubOriginCheck(this IServiceCollection services)
    {
        services.AddOptions<HubOriginOptions>().BindConfiguration(Section)
            .Validate(o => o.AllowedOrigins.All(IsOrigin),
                $"{Section}:AllowedOrigins entries must be origins such as https://chat.example.com (scheme, host and optional port; no path).")
            .ValidateOnStart();
        return services;
    }

    /// <summary>
    /// Refuses (403) a negotiate, WebSocket, SSE or long-polling request whose Origin is neither the
    /// request's own scheme://host:port nor allowed. No Origin header is allowed: browsers send one on every
    /// cross-origin fetch, XHR, EventSource and WebSocket, so its absence means a same-origin GET or a
    /// non-browser client (and negotiate, which hands out the connection id, is a POST that carries it).
    /// </summary>
    public static TBuilder RequireAllowedOrigin<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            var inner = endpoint.RequestDelegate;
            if (inner is null) return;
            endpoint.RequestDelegate = context =>
            {
                if (IsAllowed(context)) return inner(context);
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
        });
        return builder;
    }

    static bool IsAllowed(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0) return true;
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)) return false;
        var request = context.Request;
        if (Uri.TryCreate($"{request.Scheme}://{request.Host.ToUriComponent()}", UriKind.Absolute, out var own) && SameOrigin(uri, own))
            return true;
        var allowed = context.RequestServices.GetRequiredService<IOptionsMonitor<HubOriginOptions>>().CurrentValue.AllowedOrigins;
        return allowed.Any(a => SameOrigin(uri, new Uri(a)));
    }

    static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
        && a.Port == b.Port;

    static bool IsOrigin(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0 && !value.TrimEnd('/').EndsWith(':');
}
