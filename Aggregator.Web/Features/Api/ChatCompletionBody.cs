using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// A <c>POST /v1/chat/completions</c> body, checked field by field: a malformed one is refused with
/// a 400 that names the field (OpenAI's <c>param</c>). The fields read here become the neutral request
/// (what an upstream of another standard is built from); the whole body, unknown fields included,
/// stays as <see cref="Native"/> and reaches OpenAI-standard upstreams untouched.
/// </summary>
public sealed partial record ChatCompletionBody(string Model, bool Stream, bool IncludeUsage, IReadOnlyList<ChatTurn> Messages, NativeBody Native)
{
    public int? MaxTokens { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public IReadOnlyList<string>? Stop { get; init; }
    public IReadOnlyList<ToolDefinition>? Tools { get; init; }
    public ToolChoice? ToolChoice { get; init; }
    public JsonObject? ResponseFormat { get; init; }
    public string? ReasoningEffort { get; init; }

    /// <summary>OpenAI's limit on stop sequences.</summary>
    const int MaxStops = 4;

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

        var messages = ChatCompletionMessages.Read(body["messages"]);
        var includeUsage = body["stream_options"] switch
        {
            null => false,
            JsonObject o => Flag(o, "include_usage", "stream_options.include_usage") ?? false,
            _ => throw Bad("'stream_options' must be an object.", "stream_options", "invalid_type"),
        };
        var tools = ReadTools(body["tools"]);
        return new ChatCompletionBody(model.Trim(), Flag(body, "stream") ?? false, includeUsage, messages, new NativeBody(ApiStandard.OpenAI, body))
        {
            MaxTokens = PositiveInt(body, "max_completion_tokens") ?? PositiveInt(body, "max_tokens"),
            Temperature = Number(body, "temperature", 2),
            TopP = Number(body, "top_p", 1),
            Stop = ReadStop(body["stop"]),
            Tools = tools,
            ToolChoice = Choice(body["tool_choice"], Flag(body, "parallel_tool_calls"), tools),
            ResponseFormat = ResponseFormatOf(body["response_format"]),
            ReasoningEffort = body["reasoning_effort"] switch
            {
                null => null,
                JsonValue v when v.TryGetValue(out string? e) && e is "none" or "minimal" or "low" or "medium" or "high" => e,
                _ => throw Bad("'reasoning_effort' must be none, minimal, low, medium or high.", "reasoning_effort"),
            },
        };
    }

    /// <summary>The neutral request for the router; the caller's body rides along for same-standard upstreams.</summary>
    public ChatRequest ToRequest(ApiCaller caller, long modelId) =>
        new(caller.UserId, caller.Tier, modelId, Messages, MaxTokens: MaxTokens, Temperature: Temperature, Source: "api", ApiTokenId: caller.TokenId)
        {
            TopP = TopP, Stop = Stop, Tools = Tools, ToolChoice = ToolChoice, ResponseFormat = ResponseFormat,
            ReasoningEffort = ReasoningEffort, Native = Native, UpstreamStreams = Stream,
        };

    static List<ToolDefinition>? ReadTools(JsonNode? node)
    {
        if (node is null) return null;
        if (node is not JsonArray array) throw Bad("'tools' must be an array of function tools.", "tools", "invalid_type");
        var tools = new List<ToolDefinition>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            var at = $"tools[{i}]";
            if (array[i] is not JsonObject tool) throw Bad($"'{at}' must be a tool object.", at, "invalid_type");
            if (tool["type"] is not JsonValue t || !t.TryGetValue(out string? type) || type != "function")
                throw Bad($"'{at}.type' must be function.", at + ".type");
            if (tool["function"] is not JsonObject function)
                throw Bad($"'{at}.function' is required: {{name, description, parameters}}.", at + ".function", "missing_required_parameter");
            if (function["name"] is not JsonValue n || !n.TryGetValue(out string? name) || !ToolName().IsMatch(name))
                throw Bad($"'{at}.function.name' must be 1 to 64 letters, digits, underscores or dashes.", at + ".function.name");
            string? description = null;
            if (function["description"] is { } d && (d is not JsonValue dv || !dv.TryGetValue(out description)))
                throw Bad($"'{at}.function.description' must be a string.", at + ".function.description", "invalid_type");
            var parameters = function["parameters"];
            if (parameters is not (null or JsonObject))
                throw Bad($"'{at}.function.parameters' must be a JSON Schema object.", at + ".function.parameters", "invalid_type");
            tools.Add(new ToolDefinition(name, description, parameters));
        }
        return tools.Count > 0 ? tools : null;
    }

    static ToolChoice? Choice(JsonNode? node, bool? parallel, List<ToolDefinition>? tools)
    {
        var choice = node switch
        {
            null => null,
            JsonValue v when v.TryGetValue(out string? mode) && mode is "auto" or "none" or "required" =>
                new ToolChoice(mode switch { "none" => ToolChoiceMode.None, "required" => ToolChoiceMode.Required, _ => ToolChoiceMode.Auto }),
            JsonObject o when o["type"] is JsonValue t && t.TryGetValue(out string? type) && type == "function" =>
                o["function"]?["name"] is JsonValue n && n.TryGetValue(out string? name) && name.Length > 0
                    ? new ToolChoice(ToolChoiceMode.Function, name)
                    : throw Bad("'tool_choice.function.name' is required: the tool to call.", "tool_choice.function.name", "missing_required_parameter"),
            _ => throw Bad("'tool_choice' must be auto, none, required or {\"type\":\"function\",\"function\":{\"name\"}}.", "tool_choice"),
        };
        if (choice is { Mode: ToolChoiceMode.Function } named && tools?.Any(t => t.Name == named.Name) != true)
            throw Bad($"'tool_choice' names the function '{named.Name}', which is not among 'tools'.", "tool_choice.function.name");
        if (parallel is null) return choice;
        return (choice ?? ToolChoice.Auto) with { ParallelToolCalls = parallel };
    }

    static List<string>? ReadStop(JsonNode? node)
    {
        switch (node)
        {
            case null: return null;
            case JsonValue v when v.TryGetValue(out string? one): return one.Length > 0 ? [one] : null;
            case JsonArray array when array.Count <= MaxStops:
                var stops = new List<string>(array.Count);
                for (var i = 0; i < array.Count; i++)
                    stops.Add(array[i] is JsonValue s && s.TryGetValue(out string? stop) && stop.Length > 0
                        ? stop
                        : throw Bad($"'stop[{i}]' must be a non-empty string.", $"stop[{i}]", "invalid_type"));
                return stops.Count > 0 ? stops : null;
            default: throw Bad($"'stop' must be a string or an array of at most {MaxStops} strings.", "stop");
        }
    }

    static JsonObject? ResponseFormatOf(JsonNode? node)
    {
        if (node is null) return null;
        if (node is not JsonObject format) throw Bad("'response_format' must be an object with a 'type'.", "response_format", "invalid_type");
        var type = format["type"] is JsonValue t && t.TryGetValue(out string? s) ? s : null;
        switch (type)
        {
            case "text" or "json_object": return format;
            case "json_schema":
                if (format["json_schema"] is not JsonObject schema)
                    throw Bad("'response_format.json_schema' is required: {name, schema}.", "response_format.json_schema", "missing_required_parameter");
                if (schema["name"] is not JsonValue n || !n.TryGetValue(out string? name) || !ToolName().IsMatch(name))
                    throw Bad("'response_format.json_schema.name' must be 1 to 64 letters, digits, underscores or dashes.", "response_format.json_schema.name");
                if (schema["schema"] is not (null or JsonObject))
                    throw Bad("'response_format.json_schema.schema' must be a JSON Schema object.", "response_format.json_schema.schema", "invalid_type");
                return format;
            default: throw Bad("'response_format.type' must be text, json_object or json_schema.", "response_format.type");
        }
    }

    static bool? Flag(JsonObject o, string name, string? param = null) => o[name] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        _ => throw Bad($"'{param ?? name}' must be a boolean (true or false).", param ?? name, "invalid_type"),
    };

    static double? Number(JsonObject o, string name, double max) => o[name] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double d) && d >= 0 && d <= max => d,
        _ => throw Bad($"'{name}' must be a number from 0 to {max}.", name),
    };

    static int? PositiveInt(JsonObject o, string name) => o[name] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out int n) && n > 0 => n,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double d) && d == Math.Floor(d) && d is > 0 and <= int.MaxValue => (int)d,
        _ => throw Bad($"'{name}' must be a positive integer.", name),
    };

    internal static ApiException Bad(string message, string? param, string code = "invalid_value") => new(ApiError.BadRequest(message, param, code));

    /// <summary>OpenAI's rule for function and schema names.</summary>
    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex ToolName();
}
