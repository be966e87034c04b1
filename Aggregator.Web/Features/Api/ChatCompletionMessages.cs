using System.Buffers.Text;
using System.Text;
using System.Text.Json.Nodes;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream;
using static Aggregator.Web.Features.Api.ChatCompletionBody;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// The <c>messages</c> of an OpenAI chat body in neutral terms: roles system/developer/user/assistant/tool,
/// text and image parts, assistant tool calls and tool results. Every malformed field is a 400 naming it.
/// </summary>
internal static class ChatCompletionMessages
{
    /// <summary>The media types every upstream standard accepts inline (Anthropic's list).</summary>
    static readonly Dictionary<string, string> ImageTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["image/png"] = "image/png", ["image/jpeg"] = "image/jpeg", ["image/jpg"] = "image/jpeg",
        ["image/gif"] = "image/gif", ["image/webp"] = "image/webp",
    };

    public static List<ChatTurn> Read(JsonNode? node)
    {
        if (node is null) throw Bad("'messages' is required: an array of {role, content} objects.", "messages", "missing_required_parameter");
        if (node is not JsonArray array) throw Bad("'messages' must be an array of {role, content} objects.", "messages", "invalid_type");
        if (array.Count == 0) throw Bad("'messages' must contain at least one message.", "messages");
        var turns = new List<ChatTurn>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            var at = $"messages[{i}]";
            if (array[i] is not JsonObject message) throw Bad($"'{at}' must be an object with 'role' and 'content'.", at, "invalid_type");
            turns.Add(Message(message, at));
        }
        return turns;
    }

    static ChatTurn Message(JsonObject message, string at)
    {
        var role = message["role"] is JsonValue r && r.TryGetValue(out string? roleName) ? roleName : null;
        var content = message["content"];
        switch (role)
        {
            case "system" or "developer":
                return new ChatTurn(MessageRole.System, Text(content, at + ".content", required: true));
            case "user":
                var (text, parts) = UserContent(content, at + ".content");
                return new ChatTurn(MessageRole.User, text) { Parts = parts };
            case "assistant":
                var calls = ToolCalls(message["tool_calls"], at + ".tool_calls");
                return new ChatTurn(MessageRole.Assistant, Text(content, at + ".content", required: false, refusals: true)) { ToolCalls = calls };
            case "tool":
                if (message["tool_call_id"] is not JsonValue idValue || !idValue.TryGetValue(out string? callId) || callId.Length == 0)
                    throw Bad($"'{at}.tool_call_id' is required on a tool message: the id of the call it answers.", at + ".tool_call_id", "missing_required_parameter");
                return new ChatTurn(MessageRole.Tool, Text(content, at + ".content", required: true)) { ToolCallId = callId };
            case null:
                throw Bad($"'{at}.role' is required: system, developer, user, assistant or tool.", at + ".role", "missing_required_parameter");
            default:
                throw Bad($"'{at}.role' '{role}' is not supported; use system, developer, user, assistant or tool.", at + ".role");
        }
    }

    /// <summary>A string, or an array of text parts joined (assistant messages may also carry refusal parts).</summary>
    static string Text(JsonNode? node, string at, bool required, bool refusals = false)
    {
        switch (node)
        {
            case null when !required: return "";
            case null: throw Bad($"'{at}' is required.", at, "missing_required_parameter");
            case JsonValue v when v.TryGetValue(out string? text): return text;
            case JsonArray parts:
                var joined = new StringBuilder();
                for (var j = 0; j < parts.Count; j++)
                {
                    var partAt = $"{at}[{j}]";
                    var (part, type) = Part(parts[j], partAt);
                    var field = type switch
                    {
                        "text" => "text",
                        "refusal" when refusals => "refusal",
                        _ => throw Bad($"'{partAt}.type' '{type}' is not allowed here; send text parts.", partAt + ".type"),
                    };
                    joined.Append(String(part, field, partAt));
                }
                return joined.ToString();
            default: throw Bad($"'{at}' must be a string or an array of text parts.", at, "invalid_type");
        }
    }

    /// <summary>A user's content: its text, and its parts in order when it has images (null otherwise).</summary>
    static (string Text, List<ContentPart>? Parts) UserContent(JsonNode? node, string at)
    {
        if (node is not JsonArray array) return (Text(node, at, required: true), null);
        var parts = new List<ContentPart>(array.Count);
        var text = new StringBuilder();
        var images = false;
        for (var j = 0; j < array.Count; j++)
        {
            var partAt = $"{at}[{j}]";
            var (part, type) = Part(array[j], partAt);
            switch (type)
            {
                case "text":
                    var t = String(part, "text", partAt);
                    text.Append(t);
                    parts.Add(new TextPart(t));
                    break;
                case "image_url":
                    parts.Add(Image(part["image_url"], partAt + ".image_url"));
                    images = true;
                    break;
                default:
                    throw Bad($"'{partAt}.type' '{type}' is not supported by this server; send text or image_url parts.", partAt + ".type");
            }
        }
        return (text.ToString(), images ? parts : null);
    }

    static (JsonObject Part, string? Type) Part(JsonNode? node, string at)
    {
        if (node is not JsonObject part) throw Bad($"'{at}' must be a content part object.", at, "invalid_type");
        if (part["type"] is not JsonValue t || !t.TryGetValue(out string? type))
            throw Bad($"'{at}.type' is required: the part's type, e.g. text.", at + ".type", "missing_required_parameter");
        return (part, type);
    }

    static string String(JsonObject o, string field, string at) =>
        o[field] is JsonValue v && v.TryGetValue(out string? s) ? s
            : throw Bad($"'{at}.{field}' must be a string.", $"{at}.{field}", "invalid_type");

    /// <summary>An http(s) URL, or a data URL of an image type every upstream takes, with a payload that is valid base64.</summary>
    static ImagePart Image(JsonNode? node, string at)
    {
        // Some clients send the URL itself instead of {url}: the same image, so accepted.
        if (node is JsonValue bare && bare.TryGetValue(out string? bareUrl)) return ImageAt(bareUrl, null, at);
        if (node is not JsonObject image) throw Bad($"'{at}' must be an object with 'url'.", at, "invalid_type");
        var url = String(image, "url", at);
        string? detail = null;
        if (image["detail"] is { } d)
        {
            if (d is not JsonValue dv || !dv.TryGetValue(out detail) || detail is not ("auto" or "low" or "high"))
                throw Bad($"'{at}.detail' must be auto, low or high.", at + ".detail");
        }
        return ImageAt(url, detail, at + ".url");
    }

    static ImagePart ImageAt(string url, string? detail, string at)
    {
        if (url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            var comma = url.IndexOf(',');
            var header = comma < 0 ? url.AsSpan(5) : url.AsSpan(5, comma - 5);
            const string Base64Marker = ";base64";
            if (comma < 0 || !header.EndsWith(Base64Marker, StringComparison.OrdinalIgnoreCase)
                || !ImageTypes.TryGetValue(header[..^Base64Marker.Length].ToString(), out var mediaType))
                throw Bad($"'{at}' must be a data URL of the form data:image/<png|jpeg|gif|webp>;base64,<data>.", at);
            var payload = url.AsSpan(comma + 1);
            if (!Base64.IsValid(payload, out var bytes) || bytes == 0)
                throw Bad($"'{at}' carries no valid base64 image data.", at);
            return new ImagePart(null, mediaType, payload.ToString(), detail);
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw Bad($"'{at}' must be an http(s) URL or a data URL.", at);
        return new ImagePart(url, null, null, detail);
    }

    static List<ToolCall>? ToolCalls(JsonNode? node, string at)
    {
        if (node is null) return null;
        if (node is not JsonArray array) throw Bad($"'{at}' must be an array of tool calls.", at, "invalid_type");
        var calls = new List<ToolCall>(array.Count);
        for (var k = 0; k < array.Count; k++)
        {
            var callAt = $"{at}[{k}]";
            if (array[k] is not JsonObject call) throw Bad($"'{callAt}' must be a tool call object.", callAt, "invalid_type");
            if (call["id"] is not JsonValue idValue || !idValue.TryGetValue(out string? id) || id.Length == 0)
                throw Bad($"'{callAt}.id' is required: the call's id, which its tool message answers.", callAt + ".id", "missing_required_parameter");
            if (call["type"] is { } type && (type is not JsonValue tv || !tv.TryGetValue(out string? typeName) || typeName != "function"))
                throw Bad($"'{callAt}.type' must be function.", callAt + ".type");
            if (call["function"] is not JsonObject function)
                throw Bad($"'{callAt}.function' is required: {{name, arguments}}.", callAt + ".function", "missing_required_parameter");
            var name = String(function, "name", callAt + ".function");
            var arguments = String(function, "arguments", callAt + ".function");
            calls.Add(new ToolCall(id, name, arguments));
        }
        return calls.Count > 0 ? calls : null;
    }
}
