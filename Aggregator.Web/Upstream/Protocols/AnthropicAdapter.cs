using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Upstream.Protocols;

/// <summary>Anthropic messages API: system prompt hoisted, max_tokens required, named SSE events.</summary>
public sealed class AnthropicAdapter(int defaultMaxTokens) : ProtocolAdapter
{
    public override StreamDecoder CreateDecoder(SecretRedactor redactor) => new Decoder(redactor);

    /// <summary>Anthropic stop_reason in OpenAI finish_reason terms (WIRE-FORMATS.md).</summary>
    public static string MapStopReason(string stopReason) => stopReason switch
    {
        "end_turn" or "stop_sequence" or "pause_turn" => "stop",
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => stopReason,
    };

    public override ReadOnlyMemory<byte> BuildBody(ModelRoute model, ChatRequest request)
    {
        if (request.Native is { Standard: ApiStandard.Anthropic } native) return Forward(model, native.Body, request.UpstreamStreams);
        var buffer = NewBuffer();
        using var w = new Utf8JsonWriter(buffer, WriterOptions);
        AnthropicRequest.Write(w, model, request, defaultMaxTokens);
        w.Flush();
        return buffer.WrittenMemory;
    }

    /// <summary>An Anthropic caller's body as it came: only the model and streaming are ours.</summary>
    static ReadOnlyMemory<byte> Forward(ModelRoute model, JsonObject body, bool stream)
    {
        var buffer = NewBuffer();
        using var w = new Utf8JsonWriter(buffer, WriterOptions);
        w.WriteStartObject();
        w.WriteString("model"u8, model.ModelId);
        foreach (var (name, value) in body)
        {
            if (name is "model" or "stream") continue;
            w.WritePropertyName(name);
            if (value is null) w.WriteNullValue(); else value.WriteTo(w);
        }
        w.WriteBoolean("stream"u8, stream);
        w.WriteEndObject();
        w.Flush();
        return buffer.WrittenMemory;
    }

    enum Kind { Unknown, MessageStart, ContentBlockStart, ContentBlockDelta, ContentBlockStop, MessageDelta, MessageStop, Ping, Error, Message }

    enum Part { Unknown, Text, Thinking, ToolUse, TextDelta, ThinkingDelta, InputJsonDelta }

    sealed class Decoder(SecretRedactor redactor) : StreamDecoder
    {
        // Matching the type fields in place: a string per event would be most of a stream's garbage.
        static Kind ReadKind(ref Utf8JsonReader reader) =>
            reader.TokenType != JsonTokenType.String ? Kind.Unknown
            : reader.ValueTextEquals("content_block_delta"u8) ? Kind.ContentBlockDelta
            : reader.ValueTextEquals("content_block_start"u8) ? Kind.ContentBlockStart
            : reader.ValueTextEquals("content_block_stop"u8) ? Kind.ContentBlockStop
            : reader.ValueTextEquals("message_delta"u8) ? Kind.MessageDelta
            : reader.ValueTextEquals("message_start"u8) ? Kind.MessageStart
            : reader.ValueTextEquals("message_stop"u8) ? Kind.MessageStop
            : reader.ValueTextEquals("ping"u8) ? Kind.Ping
            : reader.ValueTextEquals("error"u8) ? Kind.Error
            : reader.ValueTextEquals("message"u8) ? Kind.Message
            : Kind.Unknown;

        static Part ReadPart(ref Utf8JsonReader reader) =>
            reader.TokenType != JsonTokenType.String ? Part.Unknown
            : reader.ValueTextEquals("text_delta"u8) ? Part.TextDelta
            : reader.ValueTextEquals("thinking_delta"u8) ? Part.ThinkingDelta
            : reader.ValueTextEquals("input_json_delta"u8) ? Part.InputJsonDelta
            : reader.ValueTextEquals("text"u8) ? Part.Text
            : reader.ValueTextEquals("thinking"u8) ? Part.Thinking
            : reader.ValueTextEquals("tool_use"u8) ? Part.ToolUse
            : Part.Unknown;

        static Kind KindOf(string? eventType) => eventType switch
        {
            null => Kind.Unknown,
            "content_block_delta" => Kind.ContentBlockDelta,
            "content_block_start" => Kind.ContentBlockStart,
            "message_delta" => Kind.MessageDelta,
            "message_stop" => Kind.MessageStop,
            "error" => Kind.Error,
            _ => Kind.Unknown,
        };

        int _input, _cacheRead, _cacheCreation, _output, _tools;
        Dictionary<int, int>? _toolByBlock;

        protected override void DecodeItem(string eventType, ReadOnlySpan<byte> data)
        {
            if (data[0] != (byte)'{') throw UpstreamFailure.Protocol("an SSE event that is not JSON");
            Read(data, eventType);
        }

        public override void DecodeBody(ReadOnlySpan<byte> json)
        {
            Read(json, null);
            Ended = true;
        }

        void Read(ReadOnlySpan<byte> json, string? eventType)
        {
            Kind? type = null;
            Part deltaType = Part.Unknown, blockType = Part.Unknown;
            string? text = null, stopReason = null, blockId = null, blockName = null;
            int index = 0;
            UpstreamErrorBody? error = null;
            var sawUsage = false;
            var sawContent = false;
            try
            {
                var reader = new Utf8JsonReader(json, ReaderOptions);
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw UpstreamFailure.Protocol("a reply that is not a JSON object");
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("type"u8)) { reader.Read(); type = ReadKind(ref reader); }
                    else if (reader.ValueTextEquals("index"u8)) { reader.Read(); index = JsonRead.Int(ref reader); }
                    else if (reader.ValueTextEquals("delta"u8))
                    {
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            if (reader.ValueTextEquals("type"u8)) { reader.Read(); deltaType = ReadPart(ref reader); }
                            else if (reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("thinking"u8) || reader.ValueTextEquals("partial_json"u8))
                            { reader.Read(); text = JsonRead.String(ref reader); }
                            else if (reader.ValueTextEquals("stop_reason"u8)) { reader.Read(); stopReason = JsonRead.String(ref reader); }
                            else { reader.Read(); reader.Skip(); }
                        }
                    }
                    else if (reader.ValueTextEquals("content_block"u8))
                    {
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                        // A streamed tool_use opens with an empty input; its arguments come as input_json_delta.
                        string? openingInput = null;
                        ReadBlock(ref reader, json, ref blockType, ref blockId, ref blockName, ref text, ref openingInput);
                    }
                    else if (reader.ValueTextEquals("message"u8))
                    {
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            if (reader.ValueTextEquals("usage"u8)) { reader.Read(); sawUsage |= ReadUsage(ref reader); }
                            else { reader.Read(); reader.Skip(); }
                        }
                    }
                    else if (reader.ValueTextEquals("usage"u8)) { reader.Read(); sawUsage |= ReadUsage(ref reader); }
                    else if (reader.ValueTextEquals("stop_reason"u8)) { reader.Read(); stopReason = JsonRead.String(ref reader); }
                    else if (reader.ValueTextEquals("error"u8))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.StartObject) error = UpstreamErrorBody.ReadFields(ref reader);
                        else if (reader.TokenType == JsonTokenType.String) error = new(null, null, reader.GetString());
                        else reader.Skip();
                    }
                    else if (reader.ValueTextEquals("content"u8) && eventType is null)
                    {
                        // A whole (non-streamed) message: content blocks in order.
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); continue; }
                        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                        {
                            var bt = Part.Unknown;
                            string? bid = null, bname = null, btext = null, binput = null;
                            ReadBlock(ref reader, json, ref bt, ref bid, ref bname, ref btext, ref binput);
                            if (bt == Part.Thinking && !string.IsNullOrEmpty(btext)) Pending.Add(new ReasoningDelta(btext));
                            else if (bt == Part.Text && !string.IsNullOrEmpty(btext)) Pending.Add(new ContentDelta(btext));
                            // A whole tool_use block carries its input as an object: that is the call's arguments text.
                            else if (bt == Part.ToolUse) Pending.Add(new ToolCallDelta(_tools++, bid, bname, binput ?? "{}"));
                        }
                        sawContent = true;
                    }
                    else { reader.Read(); reader.Skip(); }
                }
            }
            catch (JsonException ex)
            {
                throw UpstreamFailure.Protocol("malformed JSON", ex);
            }

            var kind = type ?? KindOf(eventType);
            if (error is not null || kind == Kind.Error || eventType == "error") throw UpstreamFailure.InBand(error ?? UpstreamErrorBody.None, redactor);
            switch (kind)
            {
                case Kind.ContentBlockStart:
                    if (blockType == Part.ToolUse)
                    {
                        (_toolByBlock ??= [])[index] = _tools;
                        Pending.Add(new ToolCallDelta(_tools++, blockId, blockName, null));
                    }
                    else if (!string.IsNullOrEmpty(text)) Pending.Add(blockType == Part.Thinking ? new ReasoningDelta(text) : new ContentDelta(text));
                    break;
                case Kind.ContentBlockDelta when !string.IsNullOrEmpty(text):
                    switch (deltaType)
                    {
                        case Part.TextDelta: Pending.Add(new ContentDelta(text)); break;
                        case Part.ThinkingDelta: Pending.Add(new ReasoningDelta(text)); break;
                        case Part.InputJsonDelta when _toolByBlock?.TryGetValue(index, out var tool) == true:
                            Pending.Add(new ToolCallDelta(tool, null, null, text));
                            break;
                    }
                    break;
                case Kind.MessageDelta:
                    if (stopReason is not null) Finish(MapStopReason(stopReason));
                    if (sawUsage) Pending.Add(new UsageDelta(Usage()));
                    break;
                case Kind.MessageStop:
                    Ended = true;
                    break;
                case Kind.Message when eventType is null:
                    if (!sawContent) throw UpstreamFailure.Protocol("a message without content");
                    if (stopReason is not null) Finish(MapStopReason(stopReason));
                    if (sawUsage) Pending.Add(new UsageDelta(Usage()));
                    break;
                case Kind.Unknown when eventType is null:
                    throw UpstreamFailure.Protocol("a JSON reply that is not a message");
            }
        }

        TokenUsage Usage() => new(_input + _cacheRead + _cacheCreation, _output, CachedTokens: _cacheRead);

        static void ReadBlock(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, ref Part type, ref string? id, ref string? name, ref string? text, ref string? input)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("input"u8))
                {
                    // Kept as the provider's JSON text, read straight from the body.
                    reader.Read();
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    input = Encoding.UTF8.GetString(json[start..(int)reader.BytesConsumed]);
                    continue;
                }
                if (reader.ValueTextEquals("type"u8)) { reader.Read(); type = ReadPart(ref reader); }
                else if (reader.ValueTextEquals("id"u8)) { reader.Read(); id = JsonRead.String(ref reader); }
                else if (reader.ValueTextEquals("name"u8)) { reader.Read(); name = JsonRead.String(ref reader); }
                else if (reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("thinking"u8)) { reader.Read(); text = JsonRead.String(ref reader); }
                else { reader.Read(); reader.Skip(); }
            }
        }

        /// <summary>message_start carries input tokens, message_delta cumulative output tokens; fields may come in either.</summary>
        bool ReadUsage(ref Utf8JsonReader reader)
        {
            if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); return false; }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("input_tokens"u8)) { reader.Read(); _input = JsonRead.Int(ref reader); }
                else if (reader.ValueTextEquals("output_tokens"u8)) { reader.Read(); _output = JsonRead.Int(ref reader); }
                else if (reader.ValueTextEquals("cache_read_input_tokens"u8)) { reader.Read(); _cacheRead = JsonRead.Int(ref reader); }
                else if (reader.ValueTextEquals("cache_creation_input_tokens"u8)) { reader.Read(); _cacheCreation = JsonRead.Int(ref reader); }
                else { reader.Read(); reader.Skip(); }
            }
            return true;
        }
    }
}
