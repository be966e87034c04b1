using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Aggregator.Web.Tests.Infrastructure;

namespace Aggregator.Web.Tests.Delivery;

/// <summary>What Lighthouse asks of the front-end: fingerprinted URLs, compressed bytes, long-lived caching.</summary>
public sealed partial class StaticAssetTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task Pages_link_fingerprinted_assets_served_precompressed_and_cached_as_immutable()
    {
        using var http = app.CreateClient();
        var page = await http.GetStringAsync("/Account/Login");
        var urls = AssetUrl().Matches(page).Select(m => m.Groups[1].Value).ToList();
        Assert.Contains(urls, u => u.EndsWith(".css", StringComparison.Ordinal));
        Assert.Contains(urls, u => u.EndsWith(".js", StringComparison.Ordinal));
        Assert.Contains(urls, u => u.EndsWith(".svg", StringComparison.Ordinal)); // the icon sprite on <body data-icons>

        foreach (var url in urls)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("br"));
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(response.Content.Headers.ContentEncoding.SingleOrDefault() is "br" or "gzip",
                $"{url}: {response.Content.Headers} {response.Headers}");
            var cache = response.Headers.CacheControl?.ToString() ?? "";
            Assert.Contains("immutable", cache);
            Assert.Contains("max-age=31536000", cache);
            // Precompressed at build time: a known length, well under the file's own.
            var plain = (await http.GetByteArrayAsync(url)).Length;
            Assert.True(response.Content.Headers.ContentLength < plain * 0.8, $"{url}: {response.Content.Headers.ContentLength} of {plain} bytes");
        }
    }

    [Fact]
    public async Task Pages_are_compressed_on_the_fly()
    {
        using var http = app.CreateClient();
        using var page = new HttpRequestMessage(HttpMethod.Get, "/Account/Login");
        page.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("br"));
        using var pageResponse = await http.SendAsync(page);
        Assert.Equal("br", pageResponse.Content.Headers.ContentEncoding.Single());
    }

    [GeneratedRegex("(?:src|href|data-icons)=\"(/dist/[a-z]+\\.[a-z0-9]{8,}\\.(?:css|js|svg))\"")]
    private static partial Regex AssetUrl();
}
