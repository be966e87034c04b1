using System.Text.Json;
using Aggregator.Web.Data;

namespace Aggregator.Web.Upstream.Protocols;

/// <summary>
/// The neutral request in OpenAI chat-completions terms, for callers whose own body is not OpenAI's
/// (the chat page, Anthropic callers): system prompt, content parts, tool calls and results, tools,
/// tool choice, stop, top_p, response format and reasoning effort.
/// </summary>
public static class OpenAIMessages
{
    /// <summary>
    /// An Anthropic thinking budget as OpenAI's reasoning_effort: up to 2,048 tokens low, up to 8,192
    /// medium, more high (Anthropic's minimum budget is 1,024; OpenAI's efforts are coarse steps, so
    /// the cut points sit between the budgets clients commonly ask for).
    /// </summary>
    public static string EffortFor(int thinkingBudget) => thinkingBudget switch
    {
        <= 2048 => "low",
        <= 8192 => "medium",
        _ => "high",
    };

    /// <summary>The <c>messages</c> array: the top-level system prompt first, then every turn.</summary>
    public static void Write(Utf8JsonWriter w, ChatRequest request)
    {
        w.WriteStartArray("messages"u8);
        if (!string.IsNullOrEmpty(request.System))
        {
            w.WriteStartObject();
            w.WriteString("role"u8, "system");
            w.WriteString("content"u8, request.System);
            w.WriteEndObject();
        }
        var turns = request.Messages;
        for (var i = 0; i < turns.Count; i++)
        {
            var turn = turns[i];
            switch (turn.Role)
            {
                case MessageRole.Tool:
                    WriteToolResult(w, turn);
                    // OpenAI tool messages carry text only: images a tool returned follow the run of results as a user message.
                    if (i + 1 == turns.Count || turns[i + 1].Role != MessageRole.Tool) WriteToolImages(w, turns, i);
                    break;
                case MessageRole.Assistant when turn.ToolCalls is { Count: > 0 } calls:
                    w.WriteStartObject();
                    w.WriteString("role"u8, "assistant");
                    if (turn.Content.Length > 0) w.WriteString("content"u8, turn.Content); else w.WriteNull("content"u8);
                    w.WriteStartArray("tool_calls"u8);
                    foreach (var call in calls)
                    {
                        w.WriteStartObject();
                        w.WriteString("id"u8, call.Id);
                        w.WriteString("type"u8, "function");
                        w.WriteStartObject("function"u8);
                        w.WriteString("name"u8, call.Name);
                        w.WriteString("arguments"u8, call.Arguments);
                        w.WriteEndObject();
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                    break;
                default:
                    w.WriteStartObject();
                    w.WriteString("role"u8, RoleName(turn.Role));
                    if (turn.Parts is { } parts) WriteParts(w, parts);
                    else w.WriteString("content"u8, turn.Content);
                    w.WriteEndObject();
                    break;
            }
        }
        w.WriteEndArray();
    }

    /// <summary>
    /// The request options the neutral model carries; returns the field names written (null: none, the chat's
    /// usual case, no allocation), so the caller's extras do not repeat them.
    /// </summary>
    public static HashSet<string>? WriteOptions(Utf8JsonWriter w, ChatRequest request)
    {
        HashSet<string>? written = null;
        if (request.Tools is { Count: > 0 } tools)
        {
            Wrote("tools");
            w.WriteStartArray("tools"u8);
            foreach (var tool in tools)
            {
                w.WriteStartObject();
                w.WriteString("type"u8, "function");
                w.WriteStartObject("function"u8);
                w.WriteString("name"u8, tool.Name);
                if (tool.Description is { } description) w.WriteString("description"u8, description);
                w.WritePropertyName("parameters"u8);
                if (tool.Parameters is { } schema) schema.WriteTo(w);
                else { w.WriteStartObject(); w.WriteString("type"u8, "object"); w.WriteStartObject("properties"u8); w.WriteEndObject(); w.WriteEndObject(); }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            // OpenAI refuses tool_choice and parallel_tool_calls without tools.
            if (request.ToolChoice is { } choice)
            {
                Wrote("tool_choice");
                w.WritePropertyName("tool_choice"u8);
                switch (choice.Mode)
                {
                    case ToolChoiceMode.Function:
                        w.WriteStartObject();
                        w.WriteString("type"u8, "function");
                        w.WriteStartObject("function"u8);
                        w.WriteString("name"u8, choice.Name);
                        w.WriteEndObject();
                        w.WriteEndObject();
                        break;
                    case ToolChoiceMode.Required: w.WriteStringValue("required"); break;
                    case ToolChoiceMode.None: w.WriteStringValue("none"); break;
                    default: w.WriteStringValue("auto"); break;
                }
                if (choice.ParallelToolCalls is { } parallel && choice.Mode != ToolChoiceMode.None)
                {
                    Wrote("parallel_tool_calls");
                    w.WriteBoolean("parallel_tool_calls"u8, parallel);
                }
            }
        }
        if (request.Stop is { Count: > 0 } stop)
        {
            Wrote("stop");
            w.WriteStartArray("stop"u8);
            foreach (var s in stop) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        if (request.TopP is { } topP)
        {
            Wrote("top_p");
            w.WriteNumber("top_p"u8, topP);
        }
        if (request.ResponseFormat is { } format)
        {
            Wrote("response_format");
            w.WritePropertyName("response_format"u8);
            format.WriteTo(w);
        }
        if ((request.ReasoningEffort ?? (request.ThinkingBudget is { } budget ? EffortFor(budget) : null)) is { } effort)
        {
            Wrote("reasoning_effort");
            w.WriteString("reasoning_effort"u8, effort);
        }
        return written;

        void Wrote(string name) => (written ??= new(StringComparer.Ordinal)).Add(name);
    }

    static void WriteParts(Utf8JsonWriter w, IReadOnlyList<ContentPart> parts)
    {
        w.WriteStartArray("content"u8);
        foreach (var part in parts)
        {
            switch (part)
            {
                case TextPart text:
                    w.WriteStartObject();
                    w.WriteString("type"u8, "text");
                    w.WriteString("text"u8, text.Text);
                    w.WriteEndObject();
                    break;
                case ImagePart image:
                    WriteImage(w, image);
                    break;
            }
        }
        w.WriteEndArray();
    }

    static void WriteImage(Utf8JsonWriter w, ImagePart image)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "image_url");
        w.WriteStartObject("image_url"u8);
        w.WriteString("url"u8, image.AsUrl());
        if (image.Detail is { } detail) w.WriteString("detail"u8, detail);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>A tool result; OpenAI has no error flag, so a failed tool says so in its text.</summary>
    static void WriteToolResult(Utf8JsonWriter w, ChatTurn turn)
    {
        w.WriteStartObject();
        w.WriteString("role"u8, "tool");
        w.WriteString("tool_call_id"u8, turn.ToolCallId ?? "");
        w.WriteString("content"u8, turn.IsError ? "Error: " + turn.Content : turn.Content);
        w.WriteEndObject();
    }

    /// <summary>The images of the run of tool results ending at <paramref name="last"/>, as one user message (none: nothing).</summary>
    static void WriteToolImages(Utf8JsonWriter w, IReadOnlyList<ChatTurn> turns, int last)
    {
        var first = last;
        while (first > 0 && turns[first - 1].Role == MessageRole.Tool) first--;
        var opened = false;
        for (var i = first; i <= last; i++)
        {
            if (turns[i].Parts is not { } parts) continue;
            foreach (var image in parts.OfType<ImagePart>())
            {
                if (!opened)
                {
                    w.WriteStartObject();
                    w.WriteString("role"u8, "user");
                    w.WriteStartArray("content"u8);
                    opened = true;
                }
                WriteImage(w, image);
            }
        }
        if (!opened) return;
        w.WriteEndArray();
        w.WriteEndObject();
    }

    static string RoleName(MessageRole role) => role switch
    {
        MessageRole.System => "system",
        MessageRole.Assistant => "assistant",
        _ => "user",
    };
}
