using System.Buffers;
using System.Text.Json;
using Aggregator.Web.Upstream;

namespace Aggregator.Web.Features.Api;

/// <summary>OpenAI's chat completion objects, written straight into the response (no intermediate DTOs).</summary>
public sealed class CompletionWriter(string id, long created, string model)
{
    static readonly byte[] DataPrefix = "data: "u8.ToArray();
    static readonly byte[] EventEnd = "\n\n"u8.ToArray();

    /// <summary>One <c>chat.completion.chunk</c> SSE event: the role, a piece of content, or the finish reason.</summary>
    public void Chunk(IBufferWriter<byte> output, bool role, string? content, string? finish)
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
            w.WriteEndObject();
            w.WriteNull("logprobs"u8);
            if (finish is null) w.WriteNull("finish_reason"u8); else w.WriteString("finish_reason"u8, finish);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        output.Write(EventEnd);
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

    public void Completion(IBufferWriter<byte> output, string content, StreamCompleted completed)
    {
        using var w = new Utf8JsonWriter(output);
        Header(w, "chat.completion");
        w.WriteStartArray("choices"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, 0);
        w.WriteStartObject("message"u8);
        w.WriteString("role"u8, "assistant");
        w.WriteString("content"u8, content);
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
