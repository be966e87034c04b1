using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Routing;
using Microsoft.AspNetCore.Http.Features;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// <c>POST /v1/embeddings</c> in OpenAI's shape, on <see cref="EmbeddingRouter"/> (the chat's resolution, keys,
/// failover, quotas and usage). The body is checked field by field and then relayed as sent, model id aside,
/// so fields this server does not know reach the upstream; the upstream's JSON comes back as its bytes.
/// </summary>
public static class Embeddings
{
    public static async Task<IResult> HandleAsync(HttpContext http, ApiCatalog catalog, EmbeddingRouter router)
    {
        var caller = http.Features.GetRequiredFeature<ApiCaller>();
        var ct = http.RequestAborted;
        var (body, model, estimatedTokens) = Parse((await ApiBody.ReadAsync(http.Request, ct)).Span);
        var resolved = await catalog.ResolveAsync(caller, model, ct, ModelType.Embedding);
        if (resolved.Standard != ApiStandard.OpenAI)
            throw new ApiException(ApiError.BadRequest(
                $"The model '{resolved.Id}' is served through the Anthropic API, which has no embeddings endpoint.", "model", "model_not_supported"));

        EmbeddingResult result;
        try
        {
            result = await router.EmbedAsync(new EmbeddingRequest(caller.UserId, caller.Tier, resolved.Model.Id, body, resolved.Id, estimatedTokens,
                ApiTokenId: caller.TokenId), ct);
        }
        catch (RouterException ex)
        {
            return ApiError.From(ex);
        }
        return Results.Bytes(result.Body, "application/json");
    }

    /// <summary>The body with its model id and a token estimate of its input, or a 400 naming the field.</summary>
    static (JsonObject Body, string Model, int EstimatedTokens) Parse(ReadOnlySpan<byte> utf8)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(utf8, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw Bad($"The body is not valid JSON: {ex.Message}", null, "invalid_json");
        }
        if (root is not JsonObject body) throw Bad("The body must be a JSON object.", null, "invalid_json");

        if (body["model"] is not JsonValue modelValue || !modelValue.TryGetValue(out string? model) || string.IsNullOrWhiteSpace(model))
            throw Bad("'model' is required: an embedding model id from GET /v1/models.", "model", "missing_required_parameter");
        if (!body.ContainsKey("input") || body["input"] is null)
            throw Bad("'input' is required: a string, an array of strings, or token arrays.", "input", "missing_required_parameter");
        var tokens = InputTokens(body["input"]!);

        switch (body["encoding_format"])
        {
            case null: break;
            case JsonValue v when v.TryGetValue(out string? format) && format is "float" or "base64": break;
            default: throw Bad("'encoding_format' must be \"float\" or \"base64\".", "encoding_format");
        }
        switch (body["dimensions"])
        {
            case null: break;
            case JsonValue v when v.TryGetValue(out int d) && d >= 1: break;
            default: throw Bad("'dimensions' must be a positive integer.", "dimensions");
        }
        if (body["user"] is { } user && (user is not JsonValue u || !u.TryGetValue(out string? _)))
            throw Bad("'user' must be a string.", "user", "invalid_type");
        return (body, model.Trim(), tokens);
    }

    /// <summary>
    /// OpenAI's <c>input</c>: a string, an array of strings, an array of token ids, or an array of token-id arrays;
    /// never empty, at most 2048 items. Counts tokens for an estimate: one per id, about four characters per token of text.
    /// </summary>
    static int InputTokens(JsonNode input)
    {
        const int MaxItems = 2048;
        if (Text(input) is { } single) return single.Length > 0 ? Tokens(single) : throw Bad("'input' must not be an empty string.", "input");
        if (input is not JsonArray items) throw Bad("'input' must be a string or an array.", "input", "invalid_type");
        if (items.Count is 0 or > MaxItems) throw Bad($"'input' must have from 1 to {MaxItems} items.", "input");
        if (items.All(IsTokenId)) return items.Count;

        var total = 0;
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (Text(item) is { Length: > 0 } text) total += Tokens(text);
            else if (item is JsonArray { Count: > 0 } ids && ids.All(IsTokenId)) total += ids.Count;
            else throw Bad($"'input[{i}]' must be a non-empty string or a non-empty array of token ids.", $"input[{i}]", "invalid_type");
        }
        return total;
    }

    static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    static bool IsTokenId(JsonNode? node) => node is JsonValue v && v.TryGetValue(out int id) && id >= 0;

    static int Tokens(string text) => Math.Max(1, (text.Length + 3) / 4);

    static ApiException Bad(string message, string? param, string code = "invalid_value") => new(ApiError.BadRequest(message, param, code));
}
