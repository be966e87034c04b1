using System.Buffers;
using System.Text.Json;
using Aggregator.Web.Upstream;

namespace Aggregator.Web.Features.Api;

/// <summary>OpenAI's chat completion objects, written straight into the response (no intermediate DTOs).</summary>
public sealed class CompletionWriter(string id, long created, string model)
{
    static readonly byte[] DataPrefix = "data: "u8.ToArray();
    static readonly byte[] EventEnd = "\n\n"u8.ToArray();

    /// <summary>
    /// One <c>chat.completion.chunk</c> SSE event. <paramref name="role"/> opens the reply; <paramref name="content"/>
    /// null with <paramref name="nullContent"/> writes <c>"content": null</c> (how OpenAI opens a tool call).
    /// </summary>
    public void Chunk(IBufferWriter<byte> output, bool role = false, string? content = null, string? finish = null,
        string? reasoning = null, ToolCallDelta? tool = null, bool nullContent = false)
    {
        output.Write(DataPrefix);
        using (var w = new Utf8JsonWriter(output))
        {
            Header(w, "chat.completion.chunk");
            w.WriteStartArray("choices"u8);
            w.WriteStartObject();
            w.WriteNumber("index"u8, 0);
            w.WriteStartObject("delta"u8);
            if (role) w.WriteString("role"u8, "assistant");
            if (content is not null) w.WriteString("content"u8, content);
            else if (nullContent) w.WriteNull("content"u8);
            if (reasoning is not null) w.WriteString("reasoning_content"u8, reasoning);
            if (tool is not null) ToolCallDelta(w, tool);
            w.WriteEndObject();
            w.WriteNull("logprobs"u8);
            if (finish is null) w.WriteNull("finish_reason"u8); else w.WriteString("finish_reason"u8, finish);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        output.Write(EventEnd);
    }

    /// <summary>OpenAI's streamed call: the first piece has id, type and name (arguments ""), the rest only argument text.</summary>
    static void ToolCallDelta(Utf8JsonWriter w, ToolCallDelta tool)
    {
        w.WriteStartArray("tool_calls"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, tool.Index);
        var opens = tool.Id is not null || tool.Name is not null;
        if (opens)
        {
            w.WriteString("id"u8, tool.Id);
            w.WriteString("type"u8, "function");
        }
        w.WriteStartObject("function"u8);
        if (opens) w.WriteString("name"u8, tool.Name ?? "");
        w.WriteString("arguments"u8, tool.ArgumentsFragment ?? "");
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
    }

    /// <summary>The last chunk when <c>stream_options.include_usage</c> is set: no choices, the usage.</summary>
    public void UsageChunk(IBufferWriter<byte> output, TokenUsage usage)
    {
        output.Write(DataPrefix);
        using (var w = new Utf8JsonWriter(output))
        {
            Header(w, "chat.completion.chunk");
            w.WriteStartArray("choices"u8);
            w.WriteEndArray();
            Usage(w, usage);
            w.WriteEndObject();
        }
        output.Write(EventEnd);
    }

    /// <summary>A whole <c>chat.completion</c>: content null when the reply is only tool calls, as OpenAI sends it.</summary>
    public void Completion(IBufferWriter<byte> output, string content, string? reasoning, IReadOnlyList<ToolCall> tools, StreamCompleted completed)
    {
        using var w = new Utf8JsonWriter(output);
        Header(w, "chat.completion");
        w.WriteStartArray("choices"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, 0);
        w.WriteStartObject("message"u8);
        w.WriteString("role"u8, "assistant");
        if (content.Length == 0 && tools.Count > 0) w.WriteNull("content"u8); else w.WriteString("content"u8, content);
        if (!string.IsNullOrEmpty(reasoning)) w.WriteString("reasoning_content"u8, reasoning);
        if (tools.Count > 0)
        {
            w.WriteStartArray("tool_calls"u8);
            foreach (var call in tools)
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
        }
        w.WriteNull("refusal"u8);
        w.WriteEndObject();
        w.WriteNull("logprobs"u8);
        w.WriteString("finish_reason"u8, completed.FinishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        Usage(w, completed.Usage);
        w.WriteEndObject();
    }

    public static void Done(IBufferWriter<byte> output) => output.Write("data: [DONE]\n\n"u8);

    /// <summary>A failure after the stream started: OpenAI's error object as a data event.</summary>
    public static void ErrorEvent(IBufferWriter<byte> output, ApiError error)
    {
        output.Write(DataPrefix);
        using (var w = new Utf8JsonWriter(output)) error.WriteBody(w);
        output.Write(EventEnd);
    }

    void Header(Utf8JsonWriter w, string objectType)
    {
        w.WriteStartObject();
        w.WriteString("id"u8, id);
        w.WriteString("object"u8, objectType);
        w.WriteNumber("created"u8, created);
        w.WriteString("model"u8, model);
        w.WriteNull("system_fingerprint"u8);
    }

    static void Usage(Utf8JsonWriter w, TokenUsage usage)
    {
        w.WriteStartObject("usage"u8);
        w.WriteNumber("prompt_tokens"u8, usage.PromptTokens);
        w.WriteNumber("completion_tokens"u8, usage.CompletionTokens);
        w.WriteNumber("total_tokens"u8, usage.Total);
        w.WriteStartObject("prompt_tokens_details"u8);
        w.WriteNumber("cached_tokens"u8, usage.CachedTokens);
        w.WriteEndObject();
        w.WriteStartObject("completion_tokens_details"u8);
        w.WriteNumber("reasoning_tokens"u8, usage.ReasoningTokens);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
