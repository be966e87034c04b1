using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Upstream.Protocols;

/// <summary>OpenAI chat completions (and every OpenAI-compatible gateway: OpenRouter, AiHubMix, SiliconFlow, …).</summary>
public sealed class OpenAIAdapter : ProtocolAdapter
{
    public static readonly OpenAIAdapter Instance = new();

    public override StreamDecoder CreateDecoder(SecretRedactor redactor) => new Decoder(redactor);

    public override ReadOnlyMemory<byte> BuildBody(ModelRoute model, ChatRequest request)
    {
        if (request.Native is { Standard: Data.ApiStandard.OpenAI } native) return Forward(model, native.Body, request.UpstreamStreams);
        var buffer = NewBuffer();
        using var w = new Utf8JsonWriter(buffer, WriterOptions);
        w.WriteStartObject();
        w.WriteString("model"u8, model.ModelId);
        OpenAIMessages.Write(w, request);
        WriteStreaming(w, request.UpstreamStreams, request.Extra?["stream_options"] as JsonObject);
        if (request.MaxTokens is { } max) w.WriteNumber("max_tokens"u8, max);
        if (request.Temperature is { } t) w.WriteNumber("temperature"u8, t);
        var written = OpenAIMessages.WriteOptions(w, request);
        if (request.Extra is { } extra)
            foreach (var (name, value) in extra)
            {
                if (name is "model" or "messages" or "stream" or "stream_options") continue;
                if (name == "max_tokens" && request.MaxTokens is not null) continue;
                if (name == "temperature" && request.Temperature is not null) continue;
                if (written?.Contains(name) == true) continue;
                w.WritePropertyName(name);
                WriteNode(w, value);
            }
        w.WriteEndObject();
        w.Flush();
        return buffer.WrittenMemory;
    }

    /// <summary>An OpenAI caller's body as it came: only the model and the streaming fields are ours.</summary>
    static ReadOnlyMemory<byte> Forward(ModelRoute model, JsonObject body, bool stream)
    {
        var buffer = NewBuffer();
        using var w = new Utf8JsonWriter(buffer, WriterOptions);
        w.WriteStartObject();
        w.WriteString("model"u8, model.ModelId);
        foreach (var (name, value) in body)
        {
            if (name is "model" or "stream" or "stream_options") continue;
            w.WritePropertyName(name);
            WriteNode(w, value);
        }
        WriteStreaming(w, stream, body["stream_options"] as JsonObject);
        w.WriteEndObject();
        w.Flush();
        return buffer.WrittenMemory;
    }

    /// <summary>
    /// stream, and with it include_usage so the provider sends a final usage chunk (the caller's other
    /// stream options stay). A whole reply carries usage anyway, and OpenAI refuses stream_options without stream.
    /// </summary>
    static void WriteStreaming(Utf8JsonWriter w, bool stream, JsonObject? callerOptions)
    {
        w.WriteBoolean("stream"u8, stream);
        if (!stream) return;
        w.WriteStartObject("stream_options"u8);
        w.WriteBoolean("include_usage"u8, true);
        if (callerOptions is not null)
            foreach (var (name, value) in callerOptions)
                if (name != "include_usage") { w.WritePropertyName(name); WriteNode(w, value); }
        w.WriteEndObject();
    }

    static void WriteNode(Utf8JsonWriter w, System.Text.Json.Nodes.JsonNode? node)
    {
        if (node is null) w.WriteNullValue();
        else node.WriteTo(w);
    }

    sealed class Decoder(SecretRedactor redactor) : StreamDecoder
    {
        readonly List<ToolCallDelta> _tools = [];

        protected override void DecodeItem(string eventType, ReadOnlySpan<byte> data)
        {
            if (data.SequenceEqual("[DONE]"u8)) { Ended = true; return; }
            if (data[0] != (byte)'{') throw UpstreamFailure.Protocol("an SSE event that is not JSON");
            ReadChunk(data);
        }

        public override void DecodeBody(ReadOnlySpan<byte> json)
        {
            // A JSON object that is neither a completion nor an error (e.g. {"detail":"…"}) is not a reply.
            if (!ReadChunk(json)) throw UpstreamFailure.Protocol("a JSON reply without choices");
            Ended = true;
        }

        /// <summary>Returns whether the object looked like a chunk (had choices or usage).</summary>
        bool ReadChunk(ReadOnlySpan<byte> json)
        {
            try
            {
                var reader = new Utf8JsonReader(json, ReaderOptions);
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw UpstreamFailure.Protocol("a reply that is not a JSON object");
                UpstreamErrorBody? error = null;
                TokenUsage? usage = null;
                var sawChoices = false;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("choices"u8))
                    {
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); continue; }
                        sawChoices = true;
                        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject) ReadChoice(ref reader);
                    }
                    else if (reader.ValueTextEquals("usage"u8))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.StartObject) usage = ReadUsage(ref reader);
                        else reader.Skip();
                    }
                    else if (reader.ValueTextEquals("error"u8))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.StartObject) error = UpstreamErrorBody.ReadFields(ref reader);
                        else if (reader.TokenType == JsonTokenType.String) error = new(null, null, reader.GetString());
                        else reader.Skip();
                    }
                    else { reader.Read(); reader.Skip(); }
                }
                if (error is not null) throw UpstreamFailure.InBand(error, redactor);
                if (usage is not null) Pending.Add(new UsageDelta(usage));
                return sawChoices || usage is not null;
            }
            catch (JsonException ex)
            {
                throw UpstreamFailure.Protocol("malformed JSON", ex);
            }
        }

        void ReadChoice(ref Utf8JsonReader reader)
        {
            string? content = null, reasoning = null, finish = null;
            var index = 0;
            _tools.Clear();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("delta"u8) || reader.ValueTextEquals("message"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("content"u8)) { reader.Read(); content = JsonRead.String(ref reader); }
                        else if (reader.ValueTextEquals("reasoning_content"u8) || reader.ValueTextEquals("reasoning"u8))
                        {
                            reader.Read();
                            reasoning = JsonRead.String(ref reader) ?? reasoning;
                        }
                        else if (reader.ValueTextEquals("tool_calls"u8))
                        {
                            reader.Read();
                            if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); continue; }
                            while (reader.Read() && reader.TokenType == JsonTokenType.StartObject) _tools.Add(ReadToolCall(ref reader));
                        }
                        else { reader.Read(); reader.Skip(); }
                    }
                }
                else if (reader.ValueTextEquals("finish_reason"u8)) { reader.Read(); finish = JsonRead.String(ref reader); }
                else if (reader.ValueTextEquals("index"u8)) { reader.Read(); index = JsonRead.Int(ref reader); }
                else { reader.Read(); reader.Skip(); }
            }
            if (index != 0) return; // n > 1 is not supported: the first choice is the reply
            if (!string.IsNullOrEmpty(reasoning)) Pending.Add(new ReasoningDelta(reasoning));
            if (!string.IsNullOrEmpty(content)) Pending.Add(new ContentDelta(content));
            foreach (var tool in _tools) Pending.Add(tool);
            // OpenRouter ends a failed stream with finish_reason "error" next to a top-level error (thrown by the caller).
            if (!string.IsNullOrEmpty(finish)) Finish(finish);
        }

        static ToolCallDelta ReadToolCall(ref Utf8JsonReader reader)
        {
            int index = 0;
            string? id = null, name = null, arguments = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("index"u8)) { reader.Read(); index = JsonRead.Int(ref reader); }
                else if (reader.ValueTextEquals("id"u8)) { reader.Read(); id = JsonRead.String(ref reader); }
                else if (reader.ValueTextEquals("function"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("name"u8)) { reader.Read(); name = JsonRead.String(ref reader); }
                        else if (reader.ValueTextEquals("arguments"u8)) { reader.Read(); arguments = JsonRead.String(ref reader); }
                        else { reader.Read(); reader.Skip(); }
                    }
                }
                else { reader.Read(); reader.Skip(); }
            }
            return new ToolCallDelta(index, id, name, arguments);
        }

        static TokenUsage ReadUsage(ref Utf8JsonReader reader)
        {
            int prompt = 0, completion = 0, reasoning = 0, cached = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("prompt_tokens"u8)) { reader.Read(); prompt = JsonRead.Int(ref reader); }
                else if (reader.ValueTextEquals("completion_tokens"u8)) { reader.Read(); completion = JsonRead.Int(ref reader); }
                else if (reader.ValueTextEquals("prompt_tokens_details"u8)) { reader.Read(); cached = ReadDetail(ref reader, "cached_tokens"u8, cached); }
                else if (reader.ValueTextEquals("completion_tokens_details"u8)) { reader.Read(); reasoning = ReadDetail(ref reader, "reasoning_tokens"u8, reasoning); }
                else { reader.Read(); reader.Skip(); }
            }
            return new TokenUsage(prompt, completion, reasoning, cached);
        }

        static int ReadDetail(ref Utf8JsonReader reader, ReadOnlySpan<byte> name, int fallback)
        {
            if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); return fallback; }
            var value = fallback;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(name)) { reader.Read(); value = JsonRead.Int(ref reader); }
                else { reader.Read(); reader.Skip(); }
            }
            return value;
        }
    }
}
