using System.Buffers;
using System.Text.Json;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Upstream.Protocols;

/// <summary>One API standard's wire format: builds its chat bodies and decodes its replies into <see cref="StreamEvent"/>s.
/// Authentication, URLs and error handling are <see cref="ProviderClient"/>'s.</summary>
public abstract class ProtocolAdapter
{
    protected static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    /// <summary>The request body for one completion (the same for every key of a provider, so built once per request).</summary>
    public abstract ReadOnlyMemory<byte> BuildBody(ModelRoute model, ChatRequest request);

    /// <summary>Fresh decoding state for one reply; in-band errors are redacted with the key's redactor.</summary>
    public abstract StreamDecoder CreateDecoder(SecretRedactor redactor);

    protected static ArrayBufferWriter<byte> NewBuffer() => new(1024);

    protected static string Role(MessageRole role) => role switch
    {
        MessageRole.System => "system",
        MessageRole.Assistant => "assistant",
        MessageRole.Tool => "tool",
        _ => "user",
    };
}

/// <summary>
/// Turns one reply into events. SSE items arrive through <see cref="Decode"/> (called by SseParser);
/// a non-streamed JSON body through <see cref="DecodeBody"/>. Events go to <see cref="Pending"/>;
/// an error the provider reports in-band is thrown as <see cref="UpstreamFailure"/>.
/// </summary>
public abstract class StreamDecoder
{
    public List<StreamEvent> Pending { get; } = new(4);

    /// <summary>The provider said the reply is over ([DONE], message_stop, a whole JSON body).</summary>
    public bool Ended { get; protected set; }
    public bool SawFinish { get; protected set; }

    protected static readonly JsonReaderOptions ReaderOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    /// <summary>SseItemParser callback: returns whether the item produced events.</summary>
    public bool Decode(string eventType, ReadOnlySpan<byte> data)
    {
        data = data.Trim(" \t\r\n"u8);
        if (data.IsEmpty) return false;
        DecodeItem(eventType, data);
        return Pending.Count > 0;
    }

    protected abstract void DecodeItem(string eventType, ReadOnlySpan<byte> data);

    public abstract void DecodeBody(ReadOnlySpan<byte> json);

    protected void Finish(string reason)
    {
        SawFinish = true;
        Pending.Add(new FinishDelta(reason));
    }
}
