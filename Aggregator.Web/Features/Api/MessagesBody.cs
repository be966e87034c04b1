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
public sealed partial record MessagesBody(string Model, int MaxTokens, bool Stream, NativeBody Native)
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

    /// <summary>The neutral request for the router.</summary>
    public ChatRequest ToRequest(ApiCaller caller, long modelId) =>
        new(caller.UserId, caller.Tier, modelId, Messages, MaxTokens: MaxTokens, Temperature: Temperature, Extra: Extra,
            Source: "api", ApiTokenId: caller.TokenId)
        {
            System = System, Tools = Tools, ToolChoice = ToolChoice, Stop = StopSequences, TopP = TopP,
            ThinkingBudget = ThinkingBudget, Native = Native, UpstreamStreams = Stream,
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
