using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Upstream.Protocols;

/// <summary>
/// The neutral request as an Anthropic Messages body (a caller of another standard, e.g. OpenAI's). Mappings:
/// <list type="bullet">
/// <item>system prompt and system/developer turns → top-level <c>system</c> (joined by blank lines, in order);</item>
/// <item>turns → user/assistant alternation, consecutive ones of one side merged (tool results are the user's side);</item>
/// <item>image parts → <c>image</c> blocks with a <c>base64</c> source (data URLs) or a <c>url</c> source;</item>
/// <item>assistant tool calls → <c>tool_use</c> blocks, input = the arguments' JSON object (see <see cref="WriteInput"/>);</item>
/// <item>tool turns → <c>tool_result</c> blocks (first in their user message, as Anthropic requires), <c>is_error</c> kept;</item>
/// <item>tools → <c>{name, description, input_schema}</c>; tool_choice auto/none/required/function → auto/none/any/tool,
///   parallel_tool_calls=false → <c>disable_parallel_tool_use</c>;</item>
/// <item>stop → <c>stop_sequences</c>; top_p as is, unless temperature is set too (Anthropic takes only one);
///   temperature capped at 1 (Anthropic's range is 0–1);</item>
/// <item>reasoning effort → <c>thinking</c> with a budget (<see cref="BudgetFor"/>, <see cref="Limits"/>), an Anthropic caller's budget as asked;
///   none where Anthropic refuses it (<see cref="ThinkingAllowed"/>);</item>
/// <item>response_format → an instruction in <c>system</c> (see <see cref="FormatInstruction"/>).</item>
/// </list>
/// </summary>
internal static class AnthropicRequest
{
    /// <summary>Anthropic's smallest thinking budget.</summary>
    public const int MinThinkingBudget = 1024;

    /// <summary>
    /// OpenAI's reasoning_effort as an Anthropic thinking budget: minimal and low get the smallest budget
    /// Anthropic takes, medium 4,096, high 16,384 tokens; none asks for no thinking.
    /// </summary>
    public static int? BudgetFor(string? effort) => effort switch
    {
        "minimal" or "low" => MinThinkingBudget,
        "medium" => 4096,
        "high" => 16384,
        _ => null,
    };

    /// <summary>
    /// Anthropic has no JSON mode in the Messages API (structured outputs need a beta header not every
    /// Anthropic-standard upstream knows), so response_format becomes the closest documented means: an
    /// instruction in the system prompt, with the schema itself for json_schema. The reply is not validated.
    /// </summary>
    public static string? FormatInstruction(JsonObject? format)
    {
        var type = format?["type"] is JsonValue t && t.TryGetValue(out string? s) ? s : null;
        return type switch
        {
            "json_object" => "Reply with a single valid JSON object and nothing else: no prose, no Markdown code fences.",
            "json_schema" => "Reply with a single valid JSON object that conforms to this JSON Schema, and nothing else (no prose, no Markdown code fences): "
                + (format!["json_schema"]?["schema"]?.ToJsonString() ?? "{}"),
            _ => null,
        };
    }

    public static void Write(Utf8JsonWriter w, ModelRoute model, ChatRequest request, int defaultMaxTokens)
    {
        w.WriteStartObject();
        w.WriteString("model"u8, model.ModelId);

        var (maxTokens, budget) = Limits(model, request, defaultMaxTokens);
        w.WriteNumber("max_tokens"u8, maxTokens);

        var system = System(request);
        if (system is not null) w.WriteString("system"u8, system);

        w.WriteStartArray("messages"u8);
        foreach (var (role, blocks) in Conversation(request.Messages)) WriteMessage(w, role, blocks);
        w.WriteEndArray();

        WriteTools(w, request);
        if (request.Stop is { Count: > 0 } stop)
        {
            w.WriteStartArray("stop_sequences"u8);
            foreach (var s in stop) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        if (budget is not null)
        {
            w.WriteStartObject("thinking"u8);
            w.WriteString("type"u8, "enabled");
            w.WriteNumber("budget_tokens"u8, budget.Value);
            w.WriteEndObject();
        }
        // With thinking on, Anthropic refuses a temperature other than 1 and a top_p below 0.95: those are left out.
        // Its current models also refuse temperature and top_p together ("use only one"): temperature is kept.
        var temperature = budget is null ? request.Temperature : null;
        if (temperature is { } t) w.WriteNumber("temperature"u8, Math.Min(t, 1.0));
        if (request.TopP is { } topP && temperature is null && (budget is null || topP >= 0.95)) w.WriteNumber("top_p"u8, topP);
        // top_k is no OpenAI field, but OpenAI-compatible gateways take it and so did this adapter: kept (not with thinking).
        if (budget is null && request.Native?.Body["top_k"] is JsonValue topK && topK.TryGetValue(out int k) && k > 0) w.WriteNumber("top_k"u8, k);
        w.WriteBoolean("stream"u8, request.UpstreamStreams);
        w.WriteEndObject();
    }

    /// <summary>
    /// max_tokens (required) and the thinking budget, which must be below it: a limit at or under the budget gets
    /// the budget on top (OpenAI counts reasoning inside max_completion_tokens, so the caller's number stays the
    /// room for the answer). Where that passes the model's output ceiling, the ceiling is the limit and at most
    /// half of it thinks; a budget that would fall under Anthropic's minimum means no thinking.
    /// </summary>
    static (int MaxTokens, int? Budget) Limits(ModelRoute model, ChatRequest request, int defaultMaxTokens)
    {
        var maxTokens = request.MaxTokens ?? Math.Min(model.MaxOutputTokens ?? defaultMaxTokens, defaultMaxTokens);
        if ((request.ThinkingBudget ?? BudgetFor(request.ReasoningEffort)) is not { } asked || !ThinkingAllowed(request)) return (maxTokens, null);
        var budget = Math.Max(asked, MinThinkingBudget);
        if (maxTokens > budget) return (maxTokens, budget);
        if (model.MaxOutputTokens is not { } ceiling || maxTokens + budget <= ceiling) return (maxTokens + budget, budget);
        var limit = Math.Max(ceiling, maxTokens);
        budget = Math.Min(budget, limit / 2);
        return budget >= MinThinkingBudget ? (limit, budget) : (maxTokens, null);
    }

    /// <summary>
    /// Anthropic refuses thinking next to a forced tool (tool_choice any or tool), and in a tool loop wants the last
    /// assistant turn's own signed thinking blocks back, which a caller of another standard cannot have. There the
    /// request goes without thinking: the tool call is what the caller's program needs.
    /// </summary>
    static bool ThinkingAllowed(ChatRequest request)
    {
        if (request.Tools is { Count: > 0 } && request.ToolChoice?.Mode is ToolChoiceMode.Required or ToolChoiceMode.Function) return false;
        for (var i = request.Messages.Count - 1; i >= 0; i--)
            if (request.Messages[i].Role == MessageRole.Assistant) return request.Messages[i].ToolCalls is not { Count: > 0 };
        return true;
    }

    static string? System(ChatRequest request)
    {
        var parts = new List<string>();
        if (!string.IsNullOrEmpty(request.System)) parts.Add(request.System);
        foreach (var turn in request.Messages)
            if (turn.Role == MessageRole.System && turn.Content.Length > 0) parts.Add(turn.Content);
        if (FormatInstruction(request.ResponseFormat) is { } instruction) parts.Add(instruction);
        return parts.Count > 0 ? string.Join("\n\n", parts) : null;
    }

    abstract record Block;
    sealed record Text(string Value) : Block;
    sealed record Image(ImagePart Part) : Block;
    sealed record ToolUse(ToolCall Call) : Block;
    sealed record ToolResult(string CallId, string Content, bool IsError) : Block;

    /// <summary>The turns as Anthropic messages: system turns left out, empty ones dropped, one side's consecutive turns merged.</summary>
    static List<(string Role, List<Block> Blocks)> Conversation(IReadOnlyList<ChatTurn> turns)
    {
        var messages = new List<(string Role, List<Block> Blocks)>(turns.Count);
        foreach (var turn in turns)
        {
            if (turn.Role == MessageRole.System) continue;
            var blocks = BlocksOf(turn);
            if (blocks.Count == 0) continue;
            var role = turn.Role == MessageRole.Assistant ? "assistant" : "user";
            if (messages.Count > 0 && messages[^1].Role == role) messages[^1].Blocks.AddRange(blocks);
            else messages.Add((role, blocks));
        }
        return messages;
    }

    static List<Block> BlocksOf(ChatTurn turn)
    {
        var blocks = new List<Block>(1);
        switch (turn.Role)
        {
            case MessageRole.Tool:
                blocks.Add(new ToolResult(turn.ToolCallId ?? "", turn.Content, turn.IsError));
                break;
            case MessageRole.User when turn.Parts is { } parts:
                foreach (var part in parts)
                {
                    if (part is TextPart { Text.Length: > 0 } text) blocks.Add(new Text(text.Text));
                    else if (part is ImagePart image) blocks.Add(new Image(image));
                }
                break;
            default:
                // Anthropic refuses empty text blocks: an assistant turn that only called tools has none.
                if (turn.Content.Length > 0) blocks.Add(new Text(turn.Content));
                foreach (var call in turn.ToolCalls ?? []) blocks.Add(new ToolUse(call));
                break;
        }
        return blocks;
    }

    static void WriteMessage(Utf8JsonWriter w, string role, List<Block> blocks)
    {
        w.WriteStartObject();
        w.WriteString("role"u8, role);
        if (blocks.TrueForAll(b => b is Text))
        {
            // Text only: one string, as a plain chat has always been sent.
            w.WriteString("content"u8, string.Join("\n\n", blocks.Select(b => ((Text)b).Value)));
            w.WriteEndObject();
            return;
        }
        w.WriteStartArray("content"u8);
        // Anthropic wants a user message's tool_result blocks before anything else in it.
        foreach (var block in blocks.OrderBy(b => b is ToolResult ? 0 : 1)) WriteBlock(w, block);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    static void WriteBlock(Utf8JsonWriter w, Block block)
    {
        w.WriteStartObject();
        switch (block)
        {
            case Text text:
                w.WriteString("type"u8, "text");
                w.WriteString("text"u8, text.Value);
                break;
            case Image { Part: var image }:
                w.WriteString("type"u8, "image");
                w.WriteStartObject("source"u8);
                if (image.Url is { } url)
                {
                    w.WriteString("type"u8, "url");
                    w.WriteString("url"u8, url);
                }
                else
                {
                    w.WriteString("type"u8, "base64");
                    w.WriteString("media_type"u8, image.MediaType);
                    w.WriteString("data"u8, image.Base64Data);
                }
                w.WriteEndObject();
                break;
            case ToolUse { Call: var call }:
                w.WriteString("type"u8, "tool_use");
                w.WriteString("id"u8, ToolId(call.Id));
                w.WriteString("name"u8, call.Name);
                w.WritePropertyName("input"u8);
                WriteInput(w, call.Arguments);
                break;
            case ToolResult result:
                w.WriteString("type"u8, "tool_result");
                w.WriteString("tool_use_id"u8, ToolId(result.CallId));
                if (result.Content.Length > 0) w.WriteString("content"u8, result.Content);
                if (result.IsError) w.WriteBoolean("is_error"u8, true);
                break;
        }
        w.WriteEndObject();
    }

    /// <summary>
    /// A tool call's arguments as tool_use input, which must be an object. Empty arguments are <c>{}</c> (a call
    /// without parameters). Text that is not a JSON object (OpenAI accepts any string in history; a model may have
    /// cut its arguments short) is kept, not dropped: <c>{"_raw": "&lt;the text&gt;"}</c>, so the model still sees
    /// what it sent.
    /// </summary>
    public static void WriteInput(Utf8JsonWriter w, string arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            w.WriteStartObject();
            w.WriteEndObject();
            return;
        }
        try
        {
            using var parsed = JsonDocument.Parse(arguments);
            if (parsed.RootElement.ValueKind == JsonValueKind.Object)
            {
                parsed.RootElement.WriteTo(w);
                return;
            }
        }
        catch (JsonException)
        {
            // not JSON: kept as text below
        }
        w.WriteStartObject();
        w.WriteString("_raw"u8, arguments);
        w.WriteEndObject();
    }

    /// <summary>Anthropic's ids are <c>[a-zA-Z0-9_-]+</c>; other providers' call ids may carry more. Mapped the same way on both sides of a round trip.</summary>
    public static string ToolId(string id)
    {
        if (id.Length > 0 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')) return id;
        var sb = new StringBuilder(id.Length + 1);
        foreach (var c in id) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        return sb.Length > 0 ? sb.ToString() : "_";
    }

    static void WriteTools(Utf8JsonWriter w, ChatRequest request)
    {
        var tools = request.Tools;
        var choice = request.ToolChoice;
        if (tools is not { Count: > 0 })
        {
            // Anthropic refuses tool_use / tool_result blocks in a request without tools: declare the tools the
            // history used (schema unknown, so an open object) and forbid new calls, as the caller offered none.
            var used = request.Messages.SelectMany(t => t.ToolCalls ?? []).Select(c => c.Name).Distinct().ToList();
            if (used.Count == 0 && !request.Messages.Any(t => t.Role == MessageRole.Tool)) return;
            tools = used.Select(name => new ToolDefinition(name, null, null)).ToList();
            if (tools.Count == 0) tools = [new ToolDefinition("tool", null, null)];
            choice = new ToolChoice(ToolChoiceMode.None);
        }
        w.WriteStartArray("tools"u8);
        foreach (var tool in tools)
        {
            w.WriteStartObject();
            w.WriteString("name"u8, tool.Name);
            if (tool.Description is { Length: > 0 } description) w.WriteString("description"u8, description);
            w.WritePropertyName("input_schema"u8);
            if (tool.Parameters is JsonObject schema) schema.WriteTo(w);
            else
            {
                w.WriteStartObject();
                w.WriteString("type"u8, "object");
                w.WriteStartObject("properties"u8);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (choice is null) return;
        w.WriteStartObject("tool_choice"u8);
        w.WriteString("type"u8, choice.Mode switch
        {
            ToolChoiceMode.None => "none",
            ToolChoiceMode.Required => "any",
            ToolChoiceMode.Function => "tool",
            _ => "auto",
        });
        if (choice.Mode == ToolChoiceMode.Function) w.WriteString("name"u8, choice.Name);
        // "none" takes no parallelism flag; Anthropic's default is parallel, like OpenAI's.
        if (choice is { ParallelToolCalls: false, Mode: not ToolChoiceMode.None }) w.WriteBoolean("disable_parallel_tool_use"u8, true);
        w.WriteEndObject();
    }
}
