using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream;

namespace Aggregator.Web.Features.Api;

/// <summary>The system prompt and the messages of a <c>/v1/messages</c> body: content blocks into neutral turns.</summary>
public sealed partial record MessagesBody
{
    static readonly HashSet<string> ImageTypes = ["image/jpeg", "image/png", "image/gif", "image/webp"];

    static string? SystemPrompt(JsonNode? node) => node is null ? null : SystemText(node, "system");

    /// <summary>A system prompt: a string or text blocks (joined by blank lines).</summary>
    static string SystemText(JsonNode? node, string at) => node switch
    {
        JsonValue v when v.TryGetValue(out string? text) => text,
        JsonArray blocks => string.Join("\n\n", blocks.Select((b, i) => TextBlock(b, $"{at}.{i}"))),
        _ => throw Bad($"{at}: Input should be a string or a list of text blocks.", at, "invalid_type"),
    };

    static string TextBlock(JsonNode? node, string at)
    {
        if (node is not JsonObject block || TypeOf(block) != "text")
            throw Bad($"{at}: Input should be a text block ({{\"type\":\"text\",\"text\":…}}).", at, "invalid_type");
        return Text(block, at);
    }

    static string Text(JsonObject block, string at) =>
        block["text"] is JsonValue t && t.TryGetValue(out string? text)
            ? text
            : throw Bad($"{at}.text: Input should be a valid string.", at + ".text", "invalid_type");

    static List<ChatTurn> ReadMessages(JsonNode? node)
    {
        if (node is null) throw Bad("messages: Field required.", "messages", "missing_required_parameter");
        if (node is not JsonArray array) throw Bad("messages: Input should be a list of {role, content} objects.", "messages", "invalid_type");
        if (array.Count == 0) throw Bad("messages: at least one message is required.", "messages");
        var turns = new List<ChatTurn>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            var at = $"messages.{i}";
            if (array[i] is not JsonObject message) throw Bad($"{at}: Input should be an object with role and content.", at, "invalid_type");
            var role = message["role"] is JsonValue r && r.TryGetValue(out string? name) ? name : null;
            switch (role)
            {
                case "user": UserTurns(message["content"], at + ".content", turns); break;
                case "assistant": turns.Add(AssistantTurn(message["content"], at + ".content")); break;
                case "system": turns.Add(new ChatTurn(MessageRole.System, SystemText(message["content"], at + ".content"))); break;
                case null: throw Bad($"{at}.role: Field required (user, assistant or system).", at + ".role", "missing_required_parameter");
                default: throw Bad($"{at}.role: Input should be 'user', 'assistant' or 'system'.", at + ".role");
            }
        }
        return turns;
    }

    /// <summary>
    /// A user message: its tool_result blocks become tool turns (the neutral model's, and OpenAI's, place for
    /// them), the other blocks a user turn, in the order they came.
    /// </summary>
    static void UserTurns(JsonNode? content, string at, List<ChatTurn> turns)
    {
        if (content is JsonValue v && v.TryGetValue(out string? plain)) { turns.Add(new ChatTurn(MessageRole.User, plain)); return; }
        var blocks = Blocks(content, at);
        List<ContentPart>? parts = null;
        for (var j = 0; j < blocks.Count; j++)
        {
            var blockAt = $"{at}.{j}";
            var block = Block(blocks[j], blockAt);
            switch (TypeOf(block))
            {
                case "text": (parts ??= []).Add(new TextPart(Text(block, blockAt))); break;
                case "image": (parts ??= []).Add(Image(block, blockAt)); break;
                case "tool_result":
                    if (parts is not null) { turns.Add(UserTurn(parts)); parts = null; }
                    turns.Add(ToolResult(block, blockAt));
                    break;
                default: OtherBlock(block, blockAt); break;
            }
        }
        if (parts is not null) turns.Add(UserTurn(parts));
    }

    static ChatTurn UserTurn(List<ContentPart> parts) =>
        parts.All(p => p is TextPart)
            ? new ChatTurn(MessageRole.User, Joined(parts))
            : new ChatTurn(MessageRole.User, Joined(parts)) { Parts = parts };

    static ChatTurn ToolResult(JsonObject block, string at)
    {
        var id = block["tool_use_id"] is JsonValue v && v.TryGetValue(out string? toolUseId) && toolUseId.Length > 0
            ? toolUseId
            : throw Bad($"{at}.tool_use_id: Field required.", at + ".tool_use_id", "missing_required_parameter");
        var isError = block["is_error"] switch
        {
            null => false,
            JsonValue e when e.GetValueKind() is JsonValueKind.True or JsonValueKind.False => e.GetValue<bool>(),
            _ => throw Bad($"{at}.is_error: Input should be a valid boolean.", at + ".is_error", "invalid_type"),
        };
        List<ContentPart> parts = [];
        switch (block["content"])
        {
            case null: break;
            case JsonValue s when s.TryGetValue(out string? text): parts.Add(new TextPart(text)); break;
            case JsonArray items:
                for (var k = 0; k < items.Count; k++)
                {
                    var itemAt = $"{at}.content.{k}";
                    var item = Block(items[k], itemAt);
                    parts.Add(TypeOf(item) switch
                    {
                        "text" => new TextPart(Text(item, itemAt)),
                        "image" => Image(item, itemAt),
                        _ => throw Bad($"{itemAt}.type: a tool result holds text and image blocks.", itemAt + ".type"),
                    });
                }
                break;
            default: throw Bad($"{at}.content: Input should be a string or a list of blocks.", at + ".content", "invalid_type");
        }
        return new ChatTurn(MessageRole.Tool, Joined(parts))
        {
            ToolCallId = id, IsError = isError, Parts = parts.Any(p => p is ImagePart) ? parts : null,
        };
    }

    /// <summary>An assistant message: text and tool_use blocks; thinking from earlier turns means nothing to other standards.</summary>
    static ChatTurn AssistantTurn(JsonNode? content, string at)
    {
        if (content is JsonValue v && v.TryGetValue(out string? plain)) return new ChatTurn(MessageRole.Assistant, plain);
        var blocks = Blocks(content, at);
        var text = new StringBuilder();
        List<ToolCall>? calls = null;
        for (var j = 0; j < blocks.Count; j++)
        {
            var blockAt = $"{at}.{j}";
            var block = Block(blocks[j], blockAt);
            switch (TypeOf(block))
            {
                case "text": text.Append(Text(block, blockAt)); break;
                case "thinking" or "redacted_thinking": break; // signed by Anthropic, meaningless elsewhere
                case "tool_use":
                    var id = block["id"] is JsonValue idv && idv.TryGetValue(out string? callId) && callId.Length > 0
                        ? callId : throw Bad($"{blockAt}.id: Field required.", blockAt + ".id", "missing_required_parameter");
                    var name = block["name"] is JsonValue nv && nv.TryGetValue(out string? toolName) && toolName.Length > 0
                        ? toolName : throw Bad($"{blockAt}.name: Field required.", blockAt + ".name", "missing_required_parameter");
                    if (block["input"] is not JsonObject input)
                        throw Bad($"{blockAt}.input: Input should be an object.", blockAt + ".input", "invalid_type");
                    (calls ??= []).Add(new ToolCall(id, name, input.ToJsonString()));
                    break;
                default: OtherBlock(block, blockAt); break;
            }
        }
        return new ChatTurn(MessageRole.Assistant, text.ToString()) { ToolCalls = calls };
    }

    static JsonArray Blocks(JsonNode? content, string at) => content switch
    {
        null => throw Bad($"{at}: Field required.", at, "missing_required_parameter"),
        JsonArray blocks => blocks,
        _ => throw Bad($"{at}: Input should be a string or a list of content blocks.", at, "invalid_type"),
    };

    static JsonObject Block(JsonNode? node, string at) =>
        node as JsonObject ?? throw Bad($"{at}: Input should be a content block object.", at, "invalid_type");

    static string? TypeOf(JsonObject block) => block["type"] is JsonValue t && t.TryGetValue(out string? type) ? type : null;

    /// <summary>
    /// Blocks the neutral model has no place for (document, search_result, server tool blocks, newer ones) reach
    /// Anthropic upstreams in the caller's body and are left out for others; a block without a type is malformed.
    /// </summary>
    static void OtherBlock(JsonObject block, string at)
    {
        if (TypeOf(block) is null) throw Bad($"{at}.type: Field required.", at + ".type", "missing_required_parameter");
    }

    /// <summary>An image block, refused here (as Anthropic would) when its data could never be shown.</summary>
    static ImagePart Image(JsonObject block, string at)
    {
        if (block["source"] is not JsonObject source) throw Bad($"{at}.source: Field required.", at + ".source", "missing_required_parameter");
        switch (TypeOf(source))
        {
            case "base64":
                var mediaType = source["media_type"] is JsonValue m && m.TryGetValue(out string? mt) ? mt : null;
                if (mediaType is null || !ImageTypes.Contains(mediaType))
                    throw Bad($"{at}.source.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'.", at + ".source.media_type");
                var data = source["data"] is JsonValue d && d.TryGetValue(out string? b64) ? b64 : null;
                if (string.IsNullOrEmpty(data) || !global::System.Buffers.Text.Base64.IsValid(data))
                    throw Bad($"{at}.source.data: The image data is not valid base64.", at + ".source.data");
                return new ImagePart(null, mediaType, data);
            case "url":
                var url = source["url"] is JsonValue u && u.TryGetValue(out string? link) ? link : null;
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
                    throw Bad($"{at}.source.url: Input should be an absolute http(s) URL.", at + ".source.url");
                return new ImagePart(url, null, null);
            default:
                throw Bad($"{at}.source.type: Input should be 'base64' or 'url'.", at + ".source.type");
        }
    }

    static string Joined(List<ContentPart> parts) => string.Concat(parts.OfType<TextPart>().Select(p => p.Text));
}
