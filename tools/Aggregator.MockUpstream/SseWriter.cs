using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Aggregator.MockUpstream;

/// <summary>
/// Writes server-sent events byte by byte as the providers do, with the framing quirks:
/// <c>crlf</c> line endings and <c>split</c> (each frame in 1–7 byte writes, flushed one by one,
/// always cutting inside the frame's first multi-byte UTF-8 character, and pausing at that cut
/// and one other so the reader sees the pieces separately).
/// </summary>
internal sealed class SseWriter(MockRequest request)
{
    readonly bool _split = request.Faults.Has("split");
    readonly string _newline = request.Faults.Has("crlf") ? "\r\n" : "\n";
    readonly Stream _body = request.Http.Response.Body;

    public async Task StartAsync()
    {
        request.PrepareHeaders(200, "text/event-stream; charset=utf-8");
        request.Http.Response.Headers.Connection = "keep-alive";
        request.Http.Response.Headers["X-Accel-Buffering"] = "no";
        request.Http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await request.Http.Response.StartAsync(request.Aborted);
        await _body.FlushAsync(request.Aborted);
    }

    public Task DataAsync(string json) => RawAsync($"data: {json}{_newline}{_newline}");

    public Task EventAsync(string name, string json) => RawAsync($"event: {name}{_newline}data: {json}{_newline}{_newline}");

    public Task CommentAsync(string text) => RawAsync($": {text}{_newline}{_newline}");

    public Task DoneAsync() => DataAsync("[DONE]");

    async Task RawAsync(string frame)
    {
        var bytes = Encoding.UTF8.GetBytes(frame);
        var ct = request.Aborted;
        if (!_split)
        {
            await _body.WriteAsync(bytes, ct);
            await _body.FlushAsync(ct);
            return;
        }
        var forcedCut = FirstMultiByteCut(bytes);
        var pausedCut = request.Random.Next(1, bytes.Length);
        var at = 0;
        while (at < bytes.Length)
        {
            var size = Math.Min(request.Random.Next(1, 8), bytes.Length - at);
            if (forcedCut > at && forcedCut < at + size) size = forcedCut - at;
            await _body.WriteAsync(bytes.AsMemory(at, size), ct);
            await _body.FlushAsync(ct);
            at += size;
            // Kestrel coalesces quick flushes into one packet; a pause at a couple of cuts per frame
            // (always the one inside a UTF-8 character) makes the reader really see a torn frame.
            if (at == forcedCut) await Task.Delay(20, ct);
            else if (at >= pausedCut && at - size < pausedCut) await Task.Delay(5, ct);
        }
    }

    /// <summary>One byte into the first multi-byte character, or -1 when the frame is plain ASCII.</summary>
    static int FirstMultiByteCut(byte[] bytes)
    {
        var lead = Array.FindIndex(bytes, b => b >= 0xC0);
        return lead < 0 ? -1 : lead + 1;
    }
}
