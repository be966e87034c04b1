using System.Buffers;
using System.Text.Json;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Upstream.Protocols;

/// <summary>Speaks one provider API standard: builds its requests and decodes its replies into <see cref="StreamEvent"/>s.</summary>
public abstract class ProtocolAdapter
{
    protected static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    /// <summary>The request body for one completion (the same for every key of a provider, so built once per request).</summary>
    public abstract ReadOnlyMemory<byte> BuildBody(ModelRoute model, ChatRequest request);

    public abstract Uri ChatUri(ProviderRoute provider);

    /// <summary>Adds the key and protocol headers.</summary>
    public abstract void Authorize(HttpRequestMessage message, KeyLease key);

    /// <summary>A cheap authenticated call that tells whether a key works again (a model list).</summary>
    public abstract HttpRequestMessage BuildProbe(ProviderRoute provider, KeyLease key);

    /// <summary>Fresh decoding state for one reply.</summary>
    public abstract StreamDecoder CreateDecoder();

    public HttpRequestMessage BuildRequest(ProviderRoute provider, ReadOnlyMemory<byte> body, KeyLease key)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, ChatUri(provider)) { Content = new ReadOnlyMemoryContent(body) };
        message.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        message.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        Authorize(message, key);
        return message;
    }

    protected static ArrayBufferWriter<byte> NewBuffer() => new(1024);

    protected static string Role(MessageRole role) => role switch
    {
        MessageRole.System => "system",
        MessageRole.Assistant => "assistant",
        _ => "user",
    };

    protected static Uri Combine(string baseUrl, string path) =>
        new(baseUrl.EndsWith('/') ? baseUrl + path : baseUrl + "/" + path, UriKind.Absolute);
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
