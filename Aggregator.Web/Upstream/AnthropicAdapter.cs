using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Web.Data;

namespace Aggregator.Web.Upstream;

/// <summary>Anthropic messages API: system prompt hoisted, max_tokens required, named SSE events.</summary>
public sealed class AnthropicAdapter(int defaultMaxTokens, string version) : ProtocolAdapter
{
    public override Uri ChatUri(ProviderRoute provider) => Combine(provider.BaseUrl, "messages");

    public override void Authorize(HttpRequestMessage message, KeyLease key)
    {
        message.Headers.TryAddWithoutValidation("x-api-key", key.Secret);
        message.Headers.TryAddWithoutValidation("anthropic-version", version);
    }

    public override HttpRequestMessage BuildProbe(ProviderRoute provider, KeyLease key)
    {
        var message = new HttpRequestMessage(HttpMethod.Get, provider.ModelsUrl ?? Combine(provider.BaseUrl, "models?limit=1").ToString());
        Authorize(message, key);
        return message;
    }

    public override StreamDecoder CreateDecoder() => new Decoder();

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
        var buffer = NewBuffer();
        using var w = new Utf8JsonWriter(buffer, WriterOptions);
        w.WriteStartObject();
        w.WriteString("model"u8, model.ModelId);
        var maxTokens = request.MaxTokens
            ?? (request.Extra?["max_tokens"] is JsonValue v && v.TryGetValue(out int extraMax) ? extraMax : (int?)null)
            ?? Math.Min(model.MaxOutputTokens ?? defaultMaxTokens, defaultMaxTokens);
        w.WriteNumber("max_tokens"u8, maxTokens);

        // Anthropic has no system role: every system turn goes to the top-level "system".
        string? system = null;
        foreach (var turn in request.Messages)
            if (turn.Role == MessageRole.System)
                system = system is null ? turn.Content : system + "\n\n" + turn.Content;
        if (system is not null) w.WriteString("system"u8, system);

        w.WriteStartArray("messages"u8);
        // Consecutive turns of one role are merged: the API wants user and assistant to alternate.
        MessageRole? open = null;
        StringBuilder? merged = null;
        foreach (var turn in request.Messages)
        {
            if (turn.Role == MessageRole.System) continue;
            if (open == turn.Role) { (merged ??= new()).Append("\n\n").Append(turn.Content); continue; }
            if (open is not null) WriteTurn(w, open.Value, merged);
            open = turn.Role;
            merged ??= new();
            merged.Clear().Append(turn.Content);
        }
        if (open is not null) WriteTurn(w, open.Value, merged);
        w.WriteEndArray();

        w.WriteBoolean("stream"u8, true);
        if (request.Temperature is { } t) w.WriteNumber("temperature"u8, Math.Min(t, 1.0));
        // The OpenAI fields with an Anthropic equivalent; the rest mean nothing here.
        if (request.Extra is { } extra)
        {
            if (request.Temperature is null && extra["temperature"] is JsonValue temp && temp.TryGetValue(out double td))
                w.WriteNumber("temperature"u8, Math.Min(td, 1.0));
            if (extra["top_p"] is JsonValue topP) { w.WritePropertyName("top_p"u8); topP.WriteTo(w); }
            if (extra["top_k"] is JsonValue topK) { w.WritePropertyName("top_k"u8); topK.WriteTo(w); }
            switch (extra["stop"])
            {
                case JsonValue one when one.TryGetValue(out string? stop):
                    w.WriteStartArray("stop_sequences"u8); w.WriteStringValue(stop); w.WriteEndArray();
                    break;
                case JsonArray many:
                    w.WritePropertyName("stop_sequences"u8); many.WriteTo(w);
                    break;
            }
        }
        w.WriteEndObject();
        w.Flush();
        return buffer.WrittenMemory;
    }

    static void WriteTurn(Utf8JsonWriter w, MessageRole role, StringBuilder? content)
    {
        w.WriteStartObject();
        w.WriteString("role"u8, role == MessageRole.Assistant ? "assistant" : "user");
        w.WriteString("content"u8, content?.ToString() ?? "");
        w.WriteEndObject();
    }

    sealed class Decoder : StreamDecoder
    {
        int _input, _cacheRead, _cacheCreation, _output, _tools;
        readonly Dictionary<int, int> _toolByBlock = [];

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
            string? type = null, deltaType = null, text = null, stopReason = null, blockType = null, blockId = null, blockName = null;
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
                    if (reader.ValueTextEquals("type"u8)) { reader.Read(); type = JsonRead.String(ref reader); }
                    else if (reader.ValueTextEquals("index"u8)) { reader.Read(); index = JsonRead.Int(ref reader); }
                    else if (reader.ValueTextEquals("delta"u8))
                    {
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            if (reader.ValueTextEquals("type"u8)) { reader.Read(); deltaType = JsonRead.String(ref reader); }
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
                        ReadBlock(ref reader, ref blockType, ref blockId, ref blockName, ref text);
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
                            string? bt = null, bid = null, bname = null, btext = null;
                            ReadBlock(ref reader, ref bt, ref bid, ref bname, ref btext);
                            if (bt == "thinking" && !string.IsNullOrEmpty(btext)) Pending.Add(new ReasoningDelta(btext));
                            else if (bt == "text" && !string.IsNullOrEmpty(btext)) Pending.Add(new ContentDelta(btext));
                            else if (bt == "tool_use") Pending.Add(new ToolCallDelta(_tools++, bid, bname, null));
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

            if (error is not null || type == "error" || eventType == "error") throw UpstreamFailure.InBand(error ?? UpstreamErrorBody.None);
            switch (type ?? eventType)
            {
                case "content_block_start":
                    if (blockType == "tool_use")
                    {
                        _toolByBlock[index] = _tools;
                        Pending.Add(new ToolCallDelta(_tools++, blockId, blockName, null));
                    }
                    else if (!string.IsNullOrEmpty(text)) Pending.Add(blockType == "thinking" ? new ReasoningDelta(text) : new ContentDelta(text));
                    break;
                case "content_block_delta" when !string.IsNullOrEmpty(text):
                    switch (deltaType)
                    {
                        case "text_delta": Pending.Add(new ContentDelta(text)); break;
                        case "thinking_delta": Pending.Add(new ReasoningDelta(text)); break;
                        case "input_json_delta" when _toolByBlock.TryGetValue(index, out var tool):
                            Pending.Add(new ToolCallDelta(tool, null, null, text));
                            break;
                    }
                    break;
                case "message_delta":
                    if (stopReason is not null) Finish(MapStopReason(stopReason));
                    if (sawUsage) Pending.Add(new UsageDelta(Usage()));
                    break;
                case "message_stop":
                    Ended = true;
                    break;
                case "message" when eventType is null:
                    if (!sawContent) throw UpstreamFailure.Protocol("a message without content");
                    if (stopReason is not null) Finish(MapStopReason(stopReason));
                    if (sawUsage) Pending.Add(new UsageDelta(Usage()));
                    break;
                case null when eventType is null:
                    throw UpstreamFailure.Protocol("a JSON reply that is not a message");
            }
        }

        TokenUsage Usage() => new(_input + _cacheRead + _cacheCreation, _output, CachedTokens: _cacheRead);

        static void ReadBlock(ref Utf8JsonReader reader, ref string? type, ref string? id, ref string? name, ref string? text)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8)) { reader.Read(); type = JsonRead.String(ref reader); }
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
