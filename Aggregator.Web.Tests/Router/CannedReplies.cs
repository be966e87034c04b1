using System.Text;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Protocols;

namespace Aggregator.Web.Tests.Router;

/// <summary>Canned provider replies (from WIRE-FORMATS.md) and a way to feed them in arbitrary pieces.</summary>
internal static class CannedReplies
{
    public const string OpenAIStream =
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1753357673,\"model\":\"gpt-4.1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"usage\":null}\n\n" +
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1753357673,\"model\":\"gpt-4.1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi \"},\"finish_reason\":null}],\"usage\":null}\n\n" +
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1753357673,\"model\":\"gpt-4.1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"naïve 日本語 🚀\"},\"finish_reason\":null}],\"usage\":null}\n\n" +
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1753357673,\"model\":\"gpt-4.1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n" +
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1753357673,\"model\":\"gpt-4.1\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}\n\n" +
        "data: [DONE]\n\n";

    public const string AnthropicStream =
        "event: message_start\n" +
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n" +
        "event: content_block_start\n" +
        "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
        "event: ping\n" +
        "data: {\"type\":\"ping\"}\n\n" +
        "event: content_block_delta\n" +
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi \"}}\n\n" +
        "event: content_block_delta\n" +
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"naïve 日本語 🚀\"}}\n\n" +
        "event: content_block_stop\n" +
        "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
        "event: message_delta\n" +
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\n" +
        "event: message_stop\n" +
        "data: {\"type\":\"message_stop\"}\n\n";

    public static readonly AnthropicAdapter Anthropic = new(4096);
    static readonly SecretRedactor Redactor = new("sk-canned-replies-key");

    public sealed record Decoded(List<StreamEvent> Events, StreamDecoder Decoder)
    {
        public string Text => string.Concat(Events.OfType<ContentDelta>().Select(d => d.Text));
        public string Reasoning => string.Concat(Events.OfType<ReasoningDelta>().Select(d => d.Text));
        public string? Finish => Events.OfType<FinishDelta>().LastOrDefault()?.FinishReason;
        public TokenUsage? Usage => Events.OfType<UsageDelta>().LastOrDefault()?.Usage;
    }

    public static Task<Decoded> DecodeAsync(ProtocolAdapter adapter, string body, long maxBytes = 1 << 24) =>
        DecodeAsync(adapter, new PiecesStream([Encoding.UTF8.GetBytes(body)]), maxBytes);

    public static async Task<Decoded> DecodeAsync(ProtocolAdapter adapter, Stream body, long maxBytes = 1 << 24)
    {
        var decoder = adapter.CreateDecoder(Redactor);
        var events = new List<StreamEvent>();
        await foreach (var e in ReplyReader.ReadAsync(body, decoder, maxBytes, 1 << 20, CancellationToken.None)) events.Add(e);
        return new Decoded(events, decoder);
    }

    /// <summary>Bytes cut at the given offsets: each piece is returned by its own read.</summary>
    public static PiecesStream Split(string text, params int[] cuts)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var pieces = new List<byte[]>();
        var start = 0;
        foreach (var cut in cuts.Append(bytes.Length))
        {
            pieces.Add(bytes[start..cut]);
            start = cut;
        }
        return new PiecesStream(pieces);
    }
}

/// <summary>Returns one piece per read, never more: how a network delivers a split frame.</summary>
internal sealed class PiecesStream(IReadOnlyList<byte[]> pieces) : Stream
{
    int _piece, _offset;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> destination)
    {
        while (_piece < pieces.Count && _offset == pieces[_piece].Length) { _piece++; _offset = 0; }
        if (_piece == pieces.Count) return 0;
        var n = Math.Min(destination.Length, pieces[_piece].Length - _offset);
        pieces[_piece].AsSpan(_offset, n).CopyTo(destination);
        _offset += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(destination.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer, offset, count));

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
