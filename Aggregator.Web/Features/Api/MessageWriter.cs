using System.Buffers;
using System.Text;
using System.Text.Json;
using Aggregator.Web.Upstream;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// Anthropic's message objects and named stream events, written straight into the response. The router's
/// stream is flat (text, reasoning, tool-call pieces); Anthropic's is a sequence of content blocks, so this
/// opens a block when the kind of piece changes (and a new block for every tool call) and closes the last
/// one before <c>message_delta</c>. One instance per reply.
/// </summary>
public sealed class MessageWriter(string id, string model)
{
    enum Block { None, Text, Thinking, ToolUse }

    Block _open;
    int _index = -1;
    readonly Dictionary<int, int> _toolBlocks = [];
    Utf8JsonWriter? _json;

    /// <summary>OpenAI's finish_reason (the router's terms) as Anthropic's stop_reason.</summary>
    public static string StopReason(string finishReason) => finishReason switch
    {
        "length" => "max_tokens",
        "tool_calls" or "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    };

    /// <summary><c>message_start</c> (input tokens as estimated before the upstream reports them) and a first <c>ping</c>.</summary>
    public void Start(IBufferWriter<byte> output, int estimatedInputTokens)
    {
        var w = Begin(output, "message_start"u8);
        w.WriteString("type"u8, "message_start");
        w.WriteStartObject("message"u8);
        w.WriteString("id"u8, id);
        w.WriteString("type"u8, "message");
        w.WriteString("role"u8, "assistant");
        w.WriteStartArray("content"u8);
        w.WriteEndArray();
        w.WriteString("model"u8, model);
        w.WriteNull("stop_reason"u8);
        w.WriteNull("stop_sequence"u8);
        w.WriteStartObject("usage"u8);
        w.WriteNumber("input_tokens"u8, estimatedInputTokens);
        w.WriteNumber("output_tokens"u8, 0);
        w.WriteEndObject();
        w.WriteEndObject();
        End(output);
        w = Begin(output, "ping"u8);
        w.WriteString("type"u8, "ping");
        End(output);
    }

    public void Text(IBufferWriter<byte> output, string text)
    {
        if (_open != Block.Text) Open(output, Block.Text, null);
        Delta(output, "text_delta", "text"u8, text);
    }

    public void Thinking(IBufferWriter<byte> output, string text)
    {
        if (_open != Block.Thinking) Open(output, Block.Thinking, null);
        Delta(output, "thinking_delta", "thinking"u8, text);
    }

    public void Tool(IBufferWriter<byte> output, ToolCallDelta call)
    {
        if (!_toolBlocks.TryGetValue(call.Index, out var block))
        {
            Open(output, Block.ToolUse, call);
            _toolBlocks[call.Index] = block = _index;
        }
        if (string.IsNullOrEmpty(call.ArgumentsFragment)) return;
        // A fragment of a call whose block is already closed still goes to that block's index.
        DeltaAt(output, block, "input_json_delta", "partial_json"u8, call.ArgumentsFragment);
    }

    /// <summary>Closes the open block, then <c>message_delta</c> (stop reason, final usage) and <c>message_stop</c>.</summary>
    public void Finish(IBufferWriter<byte> output, StreamCompleted completed)
    {
        Close(output);
        var w = Begin(output, "message_delta"u8);
        w.WriteString("type"u8, "message_delta");
        w.WriteStartObject("delta"u8);
        w.WriteString("stop_reason"u8, StopReason(completed.FinishReason));
        w.WriteNull("stop_sequence"u8);
        w.WriteEndObject();
        Usage(w, completed.Usage);
        End(output);
        w = Begin(output, "message_stop"u8);
        w.WriteString("type"u8, "message_stop");
        End(output);
    }

    /// <summary>A failure after the stream started: Anthropic's <c>event: error</c>, the stream's last event.</summary>
    public static void Error(IBufferWriter<byte> output, ApiError error)
    {
        output.Write("event: error\ndata: "u8);
        using (var w = new Utf8JsonWriter(output)) error.WriteAnthropicBody(w);
        output.Write("\n\n"u8);
    }

    /// <summary>The whole (non-streamed) message.</summary>
    public void Message(IBufferWriter<byte> output, MessageContent content, StreamCompleted completed)
    {
        using var w = new Utf8JsonWriter(output);
        w.WriteStartObject();
        w.WriteString("id"u8, id);
        w.WriteString("type"u8, "message");
        w.WriteString("role"u8, "assistant");
        w.WriteString("model"u8, model);
        w.WriteStartArray("content"u8);
        content.WriteBlocks(w);
        w.WriteEndArray();
        w.WriteString("stop_reason"u8, StopReason(completed.FinishReason));
        w.WriteNull("stop_sequence"u8);
        Usage(w, completed.Usage);
        w.WriteEndObject();
    }

    void Open(IBufferWriter<byte> output, Block kind, ToolCallDelta? call)
    {
        Close(output);
        _open = kind;
        _index++;
        var w = Begin(output, "content_block_start"u8);
        w.WriteString("type"u8, "content_block_start");
        w.WriteNumber("index"u8, _index);
        w.WriteStartObject("content_block"u8);
        switch (kind)
        {
            case Block.Text:
                w.WriteString("type"u8, "text");
                w.WriteString("text"u8, "");
                break;
            case Block.Thinking:
                // No upstream but Anthropic signs its thinking; the field is there for clients that expect it.
                w.WriteString("type"u8, "thinking");
                w.WriteString("thinking"u8, "");
                w.WriteString("signature"u8, "");
                break;
            default:
                w.WriteString("type"u8, "tool_use");
                w.WriteString("id"u8, ToolUseId(call!.Id));
                w.WriteString("name"u8, call.Name ?? "");
                w.WriteStartObject("input"u8);
                w.WriteEndObject();
                break;
        }
        w.WriteEndObject();
        End(output);
    }

    void Close(IBufferWriter<byte> output)
    {
        if (_open == Block.None) return;
        var w = Begin(output, "content_block_stop"u8);
        w.WriteString("type"u8, "content_block_stop");
        w.WriteNumber("index"u8, _index);
        End(output);
        _open = Block.None;
    }

    void Delta(IBufferWriter<byte> output, string type, ReadOnlySpan<byte> field, string text) => DeltaAt(output, _index, type, field, text);

    void DeltaAt(IBufferWriter<byte> output, int index, string type, ReadOnlySpan<byte> field, string text)
    {
        var w = Begin(output, "content_block_delta"u8);
        w.WriteString("type"u8, "content_block_delta");
        w.WriteNumber("index"u8, index);
        w.WriteStartObject("delta"u8);
        w.WriteString("type"u8, type);
        w.WriteString(field, text);
        w.WriteEndObject();
        End(output);
    }

    /// <summary>An upstream that sent a call without an id (rare) still gets one a tool_result can name.</summary>
    internal static string ToolUseId(string? upstreamId) => string.IsNullOrEmpty(upstreamId) ? "toolu_" + Guid.NewGuid().ToString("N")[..24] : upstreamId;

    /// <summary>Anthropic counts cached input apart: input_tokens is what was not read from the cache.</summary>
    static void Usage(Utf8JsonWriter w, TokenUsage usage)
    {
        w.WriteStartObject("usage"u8);
        w.WriteNumber("input_tokens"u8, Math.Max(0, usage.PromptTokens - usage.CachedTokens));
        w.WriteNumber("cache_creation_input_tokens"u8, 0);
        w.WriteNumber("cache_read_input_tokens"u8, usage.CachedTokens);
        w.WriteNumber("output_tokens"u8, usage.CompletionTokens);
        w.WriteEndObject();
    }

    /// <summary>Starts a named event; its data object is written with the returned writer (one per reply, reused).</summary>
    Utf8JsonWriter Begin(IBufferWriter<byte> output, ReadOnlySpan<byte> name)
    {
        output.Write("event: "u8);
        output.Write(name);
        output.Write("\ndata: "u8);
        if (_json is null) _json = new Utf8JsonWriter(output);
        else _json.Reset(output);
        _json.WriteStartObject();
        return _json;
    }

    void End(IBufferWriter<byte> output)
    {
        _json!.WriteEndObject();
        _json.Flush();
        output.Write("\n\n"u8);
    }
}

/// <summary>A non-streamed reply gathered into Anthropic's content blocks, in the order they came.</summary>
public sealed class MessageContent
{
    sealed record Piece(string Type, StringBuilder Text, string? Id = null, string? Name = null);

    readonly List<Piece> _blocks = [];
    readonly Dictionary<int, Piece> _tools = [];

    public void Add(StreamEvent e)
    {
        switch (e)
        {
            case ContentDelta d: Append("text", d.Text); break;
            case ReasoningDelta r: Append("thinking", r.Text); break;
            case ToolCallDelta t:
                if (!_tools.TryGetValue(t.Index, out var call))
                {
                    _tools[t.Index] = call = new Piece("tool_use", new StringBuilder(), MessageWriter.ToolUseId(t.Id), t.Name);
                    _blocks.Add(call);
                }
                call.Text.Append(t.ArgumentsFragment);
                break;
        }
    }

    void Append(string type, string text)
    {
        if (text.Length == 0) return;
        if (_blocks.Count > 0 && _blocks[^1].Type == type) _blocks[^1].Text.Append(text);
        else _blocks.Add(new Piece(type, new StringBuilder(text)));
    }

    internal void WriteBlocks(Utf8JsonWriter w)
    {
        foreach (var block in _blocks)
        {
            w.WriteStartObject();
            w.WriteString("type"u8, block.Type);
            switch (block.Type)
            {
                case "text": w.WriteString("text"u8, block.Text.ToString()); break;
                case "thinking":
                    w.WriteString("thinking"u8, block.Text.ToString());
                    w.WriteString("signature"u8, "");
                    break;
                default:
                    w.WriteString("id"u8, block.Id);
                    w.WriteString("name"u8, block.Name ?? "");
                    w.WritePropertyName("input"u8);
                    WriteInput(w, block.Text.ToString());
                    break;
            }
            w.WriteEndObject();
        }
    }

    /// <summary>Anthropic's input is an object; arguments that are not one (empty, cut off) become <c>{}</c>.</summary>
    static void WriteInput(Utf8JsonWriter w, string arguments)
    {
        try
        {
            using var doc = JsonDocument.Parse(arguments.Length == 0 ? "{}" : arguments);
            if (doc.RootElement.ValueKind == JsonValueKind.Object) { doc.RootElement.WriteTo(w); return; }
        }
        catch (JsonException) { }
        w.WriteStartObject();
        w.WriteEndObject();
    }
}
