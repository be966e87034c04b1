using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// A <c>POST /v1/chat/completions</c> body, checked field by field: a malformed one is refused with
/// a 400 that names the field (OpenAI's <c>param</c>). Fields this server does not interpret stay in
/// <see cref="Extra"/> and reach OpenAI-standard upstreams untouched.
/// </summary>
public sealed record ChatCompletionBody(
    string Model, IReadOnlyList<ChatTurn> Messages, bool Stream, bool IncludeUsage, int? MaxTokens, double? Temperature, JsonObject? Extra)
{
    /// <summary>Fields read here; everything else passes through.</summary>
    static readonly HashSet<string> Interpreted = ["model", "messages", "stream", "max_tokens", "max_completion_tokens", "temperature"];

    public static ChatCompletionBody Parse(ReadOnlySpan<byte> utf8)
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
            throw Bad("'model' is required: a model id from GET /v1/models.", "model", "missing_required_parameter");

        var messages = ReadMessages(body["messages"]);
        var stream = Flag(body, "stream");
        var includeUsage = body["stream_options"] switch
        {
            null => false,
            JsonObject o => Flag(o, "include_usage", "stream_options.include_usage"),
            _ => throw Bad("'stream_options' must be an object.", "stream_options"),
        };
        var maxTokens = PositiveInt(body, "max_completion_tokens") ?? PositiveInt(body, "max_tokens");
        double? temperature = body["temperature"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue(out double t) && t is >= 0 and <= 2 => t,
            _ => throw Bad("'temperature' must be a number from 0 to 2.", "temperature"),
        };

        JsonObject? extra = null;
        foreach (var name in body.Select(p => p.Key).ToList())
        {
            if (Interpreted.Contains(name)) continue;
            var value = body[name];
            body.Remove(name); // a node has one parent: detach before moving it
            (extra ??= [])[name] = value;
        }
        return new ChatCompletionBody(model.Trim(), messages, stream, includeUsage, maxTokens, temperature, extra);
    }

    static List<ChatTurn> ReadMessages(JsonNode? node)
    {
        if (node is null) throw Bad("'messages' is required: an array of {role, content} objects.", "messages", "missing_required_parameter");
        if (node is not JsonArray array) throw Bad("'messages' must be an array of {role, content} objects.", "messages", "invalid_type");
        if (array.Count == 0) throw Bad("'messages' must contain at least one message.", "messages");
        var turns = new List<ChatTurn>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            var at = $"messages[{i}]";
            if (array[i] is not JsonObject message) throw Bad($"'{at}' must be an object with 'role' and 'content'.", at, "invalid_type");
            var role = message["role"] is JsonValue r && r.TryGetValue(out string? roleName) ? roleName : null;
            var mapped = role switch
            {
                "system" or "developer" => MessageRole.System,
                "user" => MessageRole.User,
                "assistant" => MessageRole.Assistant,
                null => throw Bad($"'{at}.role' is required: system, developer, user or assistant.", at + ".role", "missing_required_parameter"),
                _ => throw Bad($"'{at}.role' '{role}' is not supported here; use system, developer, user or assistant.", at + ".role"),
            };
            turns.Add(new ChatTurn(mapped, Content(message["content"], at + ".content", mapped)));
        }
        return turns;
    }

    /// <summary>A string, or an array of text parts joined (other part types are not supported yet).</summary>
    static string Content(JsonNode? node, string at, MessageRole role)
    {
        switch (node)
        {
            case null when role == MessageRole.Assistant: return "";
            case null: throw Bad($"'{at}' is required.", at, "missing_required_parameter");
            case JsonValue v when v.TryGetValue(out string? text): return text;
            case JsonArray parts:
                var joined = new StringBuilder();
                for (var j = 0; j < parts.Count; j++)
                {
                    var partAt = $"{at}[{j}]";
                    if (parts[j] is not JsonObject part) throw Bad($"'{partAt}' must be a content part object.", partAt, "invalid_type");
                    var type = part["type"] is JsonValue t && t.TryGetValue(out string? typeName) ? typeName : null;
                    if (type != "text")
                        throw Bad($"'{partAt}.type' '{type}' is not supported by this server yet; send text parts.", partAt + ".type");
                    if (part["text"] is not JsonValue tv || !tv.TryGetValue(out string? partText))
                        throw Bad($"'{partAt}.text' must be a string.", partAt + ".text", "invalid_type");
                    joined.Append(partText);
                }
                return joined.ToString();
            default: throw Bad($"'{at}' must be a string or an array of text parts.", at, "invalid_type");
        }
    }

    static bool Flag(JsonObject o, string name, string? param = null) => o[name] switch
    {
        null => false,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        _ => throw Bad($"'{param ?? name}' must be a boolean (true or false).", param ?? name, "invalid_type"),
    };

    static int? PositiveInt(JsonObject o, string name) => o[name] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out int n) && n > 0 => n,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double d) && d == Math.Floor(d) && d is > 0 and <= int.MaxValue => (int)d,
        _ => throw Bad($"'{name}' must be a positive integer.", name),
    };

    static ApiException Bad(string message, string? param, string code = "invalid_value") => new(ApiError.BadRequest(message, param, code));
}
