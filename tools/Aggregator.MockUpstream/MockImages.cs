using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Aggregator.MockUpstream;

/// <summary>
/// One image part that reached the mock. <paramref name="Kind"/> is <c>data_url</c> (OpenAI data URL), <c>base64</c>
/// (Anthropic base64 source) or <c>url</c> (a link, either protocol); <paramref name="Bytes"/> is the decoded size
/// of inline data; <paramref name="Url"/> the link (null for inline data); <paramref name="Detail"/> OpenAI's detail.
/// </summary>
public sealed record ReceivedImage(string Kind, string? MediaType, int? Bytes, string? Url, string? Detail = null);

/// <summary>
/// Finds the image parts of a chat request in either protocol (in every message, tool results included),
/// and says which one is broken the way the provider would, so it can be refused with a 400.
/// </summary>
internal static partial class MockImages
{
    static readonly string[] AnthropicMediaTypes = ["image/jpeg", "image/png", "image/gif", "image/webp"];

    public static (IReadOnlyList<ReceivedImage> Images, MockError? Broken) Read(JsonObject? json, MockRoot root)
    {
        var images = new List<ReceivedImage>();
        MockError? broken = null;
        if (json?["messages"] is not JsonArray messages) return (images, null);
        for (var m = 0; m < messages.Count; m++)
        {
            if (messages[m]?["content"] is not JsonArray parts) continue;
            var path = root == MockRoot.Anthropic ? $"messages.{m}.content" : $"messages[{m}].content";
            ReadParts(parts, path, root, images, ref broken);
        }
        return (images, broken);
    }

    static void ReadParts(JsonArray parts, string path, MockRoot root, List<ReceivedImage> images, ref MockError? broken)
    {
        for (var p = 0; p < parts.Count; p++)
        {
            if (parts[p] is not JsonObject part) continue;
            var here = root == MockRoot.Anthropic ? $"{path}.{p}" : $"{path}[{p}]";
            var (image, error) = MockJson.StringOf(part["type"]) switch
            {
                "image_url" when root != MockRoot.Anthropic => OpenAIPart(part, here),
                "image" when root == MockRoot.Anthropic => AnthropicBlock(part, here),
                _ => (null, null),
            };
            if (image is not null) images.Add(image);
            broken ??= error;
            // Anthropic tool results may carry images of their own.
            if (root == MockRoot.Anthropic && part["content"] is JsonArray inner)
                ReadParts(inner, here + ".content", root, images, ref broken);
        }
    }

    static (ReceivedImage?, MockError?) OpenAIPart(JsonObject part, string path)
    {
        // The spec says {"url": …}; some clients send the URL as a bare string.
        var imageUrl = part["image_url"];
        var url = imageUrl is JsonObject o ? MockJson.StringOf(o["url"]) : imageUrl is JsonValue v && v.TryGetValue(out string? s) ? s : null;
        var detail = imageUrl is JsonObject d ? MockJson.StringOf(d["detail"]) : null;
        var param = path + ".image_url.url";
        if (string.IsNullOrEmpty(url))
            return (new ReceivedImage("url", null, null, url, detail), OpenAIInvalid(param, "Expected a valid URL, but got an empty value."));
        if (url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            var match = DataUrl().Match(url);
            var bytes = match.Success ? Decoded(match.Groups["data"].Value) : null;
            var mediaType = match.Success ? match.Groups["type"].Value.ToLowerInvariant() : null;
            var image = new ReceivedImage("data_url", mediaType, bytes, null, detail);
            return bytes is > 0
                ? (image, null)
                : (image, OpenAIInvalid(param, "Expected a base64-encoded data URL with an image MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got an invalid value."));
        }
        var link = new ReceivedImage("url", null, null, url, detail);
        return IsHttpUrl(url) ? (link, null) : (link, OpenAIInvalid(param, "Expected a valid URL, but got a value with an invalid format."));
    }

    static (ReceivedImage?, MockError?) AnthropicBlock(JsonObject block, string path)
    {
        var source = block["source"] as JsonObject;
        switch (MockJson.StringOf(source?["type"]))
        {
            case "base64":
                var mediaType = MockJson.StringOf(source!["media_type"]);
                var bytes = Decoded(MockJson.StringOf(source["data"]) ?? "");
                var image = new ReceivedImage("base64", mediaType, bytes, null);
                if (mediaType is null || !AnthropicMediaTypes.Contains(mediaType))
                    return (image, MockError.BadParameter($"{path}.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"));
                return bytes is > 0 ? (image, null) : (image, MockError.BadParameter($"{path}.image.source.base64.data: The image data is not valid base64."));
            case "url":
                var url = MockJson.StringOf(source!["url"]);
                var link = new ReceivedImage("url", null, null, url);
                return url is not null && IsHttpUrl(url) ? (link, null) : (link, MockError.BadParameter($"{path}.image.source.url: Invalid image URL."));
            default:
                return (new ReceivedImage("unknown", null, null, null),
                    MockError.BadParameter($"{path}.image.source: Input tag '{MockJson.StringOf(source?["type"])}' found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'"));
        }
    }

    static MockError OpenAIInvalid(string param, string why) =>
        new(400, $"Invalid '{param}'. {why}", "invalid_request_error", "invalid_value", param, "invalid_request_error");

    /// <summary>The decoded size, or null when the text is not base64 (or empty).</summary>
    static int? Decoded(string data)
    {
        if (data.Length == 0) return null;
        var buffer = new byte[data.Length * 3 / 4 + 3];
        return Convert.TryFromBase64String(data, buffer, out var written) && written > 0 ? written : null;
    }

    static bool IsHttpUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    [GeneratedRegex(@"\Adata:(?<type>image/[a-z0-9.+-]+);base64,(?<data>.*)\z", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex DataUrl();
}
