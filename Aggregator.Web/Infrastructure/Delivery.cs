using System.IO.Compression;
using Aggregator.Web.Features.Chat;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Html;
using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.AspNetCore.ResponseCompression;

namespace Aggregator.Web.Infrastructure;

/// <summary>
/// How the browser gets bytes: static files through MapStaticAssets (compressed at build time,
/// fingerprinted URLs, immutable caching — see Program.cs), dynamic responses (HTML, JSON) compressed
/// on the fly. The chat hub and the /v1 API are left out: their streams must reach the client token
/// by token, not wait in a compressor's buffer, and a relay should not spend CPU compressing small
/// machine-to-machine bodies on every request (health probes neither).
/// </summary>
public static class Delivery
{
    public static IServiceCollection AddResponseDelivery(this IServiceCollection services)
    {
        services.AddResponseCompression(o =>
        {
            // Pages carry no secret an attacker could guess byte by byte (BREACH): the antiforgery
            // token is freshly encrypted per response and cookies are never echoed into a body.
            o.EnableForHttps = true;
            o.Providers.Add<BrotliCompressionProvider>();
            o.Providers.Add<GzipCompressionProvider>();
        });
        // Fastest: a page is compressed per request, and the size gain of Optimal is small at these sizes.
        services.Configure<BrotliCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        services.Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        return services;
    }

    public static IApplicationBuilder UseResponseDelivery(this IApplicationBuilder app) =>
        app.UseWhen(c => !c.Request.Path.StartsWithSegments(ChatExtensions.HubPath) && !c.Request.Path.StartsWithSegments("/v1")
                         && !c.Request.Path.StartsWithSegments(Health.PathPrefix),
            branch => branch.UseResponseCompression());

    /// <summary>
    /// The fingerprinted URL of a static asset (e.g. <c>dist/icons.svg</c> → <c>/dist/icons.abc123.svg</c>), as the
    /// script and link tag helpers write it; the plain path when the endpoint knows no static assets.
    /// </summary>
    public static string AssetUrl(this HttpContext context, string path)
    {
        var assets = context.GetEndpoint()?.Metadata.GetMetadata<ResourceAssetCollection>();
        return $"{context.Request.PathBase}/{(assets is null ? path : assets[path])}";
    }

    /// <summary>A bootstrap-icons glyph from the sprite built into dist/icons.svg (see wwwroot-src/build.mjs).</summary>
    public static IHtmlContent Icon(this IHtmlHelper html, string name) =>
        new HtmlString($"<svg class=\"bi\" aria-hidden=\"true\" focusable=\"false\"><use href=\"{html.ViewContext.HttpContext.AssetUrl("dist/icons.svg")}#{name}\"></use></svg>");
}
