using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// A <c>POST /v1/messages</c> body (Anthropic's Messages API), checked field by field: a malformed one
/// is refused with a 400 whose message names the field as Anthropic does (<c>messages.0.content.1.source.data</c>).
/// The neutral fields serve upstreams of the other standard; the body itself is kept as
/// <see cref="Native"/> and reaches Anthropic-standard upstreams untouched.
/// </summary>
public sealed record MessagesBody(string Model, int MaxTokens, bool Stream, NativeBody Native)
{
    public string? System { get; init; }
    public IReadOnlyList<ChatTurn> Messages { get; init; } = [];
    public IReadOnlyList<ToolDefinition>? Tools { get; init; }
    public ToolChoice? ToolChoice { get; init; }
    public IReadOnlyList<string>? StopSequences { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public int? ThinkingBudget { get; init; }
    /// <summary>Anthropic fields with an OpenAI equivalent outside the neutral model (metadata.user_id → user).</summary>
    public JsonObject? Extra { get; init; }

    static readonly HashSet<string> ImageTypes = ["image/jpeg", "image/png", "image/gif", "image/webp"];

    /// <summary>The neutral request for the router.</summary>
    public ChatRequest ToRequest(ApiCaller caller, long modelId) =>
        new(caller.UserId, caller.Tier, modelId, Messages, MaxTokens: MaxTokens, Temperature: Temperature, Extra: Extra,
            Source: "api", ApiTokenId: caller.TokenId)
        {
            System = System, Tools = Tools, ToolChoice = ToolChoice, Stop = StopSequences, TopP = TopP,
            ThinkingBudget = ThinkingBudget, Native = Native,
        };

    public static MessagesBody Parse(ReadOnlySpan<byte> utf8)
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
            throw Bad("model: Field required (a model id from GET /v1/models).", "model", "missing_required_parameter");
        var maxTokens = PositiveInt(body, "max_tokens") ?? throw Bad("max_tokens: Field required.", "max_tokens", "missing_required_parameter");
        var thinking = Thinking(body["thinking"]);
        if (thinking is { } budget && budget >= maxTokens)
            throw Bad("max_tokens: must be greater than thinking.budget_tokens.", "max_tokens");

        return new MessagesBody(model.Trim(), maxTokens, Flag(body, "stream"), new NativeBody(ApiStandard.Anthropic, body))
        {
            System = SystemPrompt(body["system"]),
            Messages = ReadMessages(body["messages"]),
            Tools = ReadTools(body["tools"]),
            ToolChoice = ReadToolChoice(body["tool_choice"]),
            StopSequences = Strings(body["stop_sequences"], "stop_sequences"),
            Temperature = Fraction(body, "temperature"),
            TopP = Fraction(body, "top_p"),
            ThinkingBudget = thinking,
            Extra = ReadExtra(body),
        };
    }

    static JsonObject? ReadExtra(JsonObject body)
    {
        // top_k has no OpenAI counterpart (and OpenAI refuses unknown fields), so it only reaches Anthropic upstreams.
        if (body["top_k"] is not null) PositiveInt(body, "top_k");
        switch (body["metadata"])
        {
            case null: return null;
            case JsonObject metadata:
                if (metadata["user_id"] is null) return null;
                if (metadata["user_id"] is JsonValue v && v.TryGetValue(out string? user)) return new JsonObject { ["user"] = user };
                throw Bad("metadata.user_id: Input should be a valid string.", "metadata.user_id", "invalid_type");
            default: throw Bad("metadata: Input should be an object.", "metadata", "invalid_type");
        }
    }

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

    /// <summary>Custom tools; Anthropic's server tools (a versioned <c>type</c>, no schema) exist only for Anthropic upstreams.</summary>
    static List<ToolDefinition>? ReadTools(JsonNode? node)
    {
        if (node is null) return null;
        if (node is not JsonArray array) throw Bad("tools: Input should be a list of tools.", "tools", "invalid_type");
        var tools = new List<ToolDefinition>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            var at = $"tools.{i}";
            if (array[i] is not JsonObject tool) throw Bad($"{at}: Input should be an object with name and input_schema.", at, "invalid_type");
            var type = TypeOf(tool);
            if (type is not null && type != "custom") continue;
            var name = tool["name"] is JsonValue n && n.TryGetValue(out string? toolName) && toolName.Length > 0
                ? toolName : throw Bad($"{at}.name: Field required.", at + ".name", "missing_required_parameter");
            var description = tool["description"] switch
            {
                null => null,
                JsonValue d when d.TryGetValue(out string? text) => text,
                _ => throw Bad($"{at}.description: Input should be a valid string.", at + ".description", "invalid_type"),
            };
            if (tool["input_schema"] is not JsonObject schema)
                throw Bad($"{at}.input_schema: Field required (a JSON Schema object).", at + ".input_schema", "missing_required_parameter");
            tools.Add(new ToolDefinition(name, description, schema));
        }
        return tools;
    }

    static ToolChoice? ReadToolChoice(JsonNode? node)
    {
        if (node is null) return null;
        if (node is not JsonObject choice) throw Bad("tool_choice: Input should be an object with a type.", "tool_choice", "invalid_type");
        bool? parallel = choice["disable_parallel_tool_use"] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => !v.GetValue<bool>(),
            _ => throw Bad("tool_choice.disable_parallel_tool_use: Input should be a valid boolean.", "tool_choice.disable_parallel_tool_use", "invalid_type"),
        };
        return TypeOf(choice) switch
        {
            "auto" => new ToolChoice(ToolChoiceMode.Auto, null, parallel),
            "any" => new ToolChoice(ToolChoiceMode.Required, null, parallel),
            "none" => new ToolChoice(ToolChoiceMode.None),
            "tool" => new ToolChoice(ToolChoiceMode.Function,
                choice["name"] is JsonValue n && n.TryGetValue(out string? name) && name.Length > 0
                    ? name : throw Bad("tool_choice.name: Field required.", "tool_choice.name", "missing_required_parameter"),
                parallel),
            _ => throw Bad("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'.", "tool_choice.type"),
        };
    }

    /// <summary>thinking: <c>{type:"enabled",budget_tokens}</c> gives a budget; disabled or adaptive none.</summary>
    static int? Thinking(JsonNode? node)
    {
        if (node is null) return null;
        if (node is not JsonObject thinking) throw Bad("thinking: Input should be an object with a type.", "thinking", "invalid_type");
        return TypeOf(thinking) switch
        {
            "enabled" => PositiveInt(thinking, "budget_tokens", "thinking.budget_tokens") is { } budget && budget >= 1024
                ? budget : throw Bad("thinking.budget_tokens: Input should be an integer of at least 1024.", "thinking.budget_tokens"),
            // disabled, adaptive and newer modes carry no budget to translate; Anthropic upstreams get them as sent.
            string => null,
            null => throw Bad("thinking.type: Field required ('enabled', 'disabled' or 'adaptive').", "thinking.type", "missing_required_parameter"),
        };
    }

    static List<string>? Strings(JsonNode? node, string name)
    {
        if (node is null) return null;
        if (node is JsonArray items && items.All(i => i is JsonValue v && v.GetValueKind() == JsonValueKind.String))
            return items.Select(i => i!.GetValue<string>()).ToList();
        throw Bad($"{name}: Input should be a list of strings.", name, "invalid_type");
    }

    static bool Flag(JsonObject o, string name) => o[name] switch
    {
        null => false,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        _ => throw Bad($"{name}: Input should be a valid boolean.", name, "invalid_type"),
    };

    static double? Fraction(JsonObject o, string name) => o[name] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double d) && d is >= 0 and <= 1 => d,
        _ => throw Bad($"{name}: Input should be a number from 0 to 1.", name),
    };

    static int? PositiveInt(JsonObject o, string name, string? param = null) => o[name] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double d) && d == Math.Floor(d) && d is > 0 and <= int.MaxValue => (int)d,
        _ => throw Bad($"{param ?? name}: Input should be a positive integer.", param ?? name),
    };

    static ApiException Bad(string message, string? param, string code = "invalid_value") => new(ApiError.BadRequest(message, param, code));
}
