namespace Aggregator.Web.Infrastructure;

public static class SecurityHeaders
{
    /// <summary>No inline script anywhere: Markdown from a model cannot run code even if it slipped through.</summary>
    const string Csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; " +
                       "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = Csp;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
            return next(context);
        });
}
