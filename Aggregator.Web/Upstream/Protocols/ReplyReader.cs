using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;

namespace Aggregator.Web.Upstream.Protocols;

/// <summary>Reads a successful reply, streamed (SSE) or whole (JSON), into the decoder's events.</summary>
public static class ReplyReader
{
    public static async IAsyncEnumerable<StreamEvent> ReadAsync(
        Stream content, StreamDecoder decoder, long maxResponseBytes, int maxBufferedBodyBytes,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var body = new UpstreamBody(content, maxResponseBytes);
        var first = await body.PeekAsync(cancellationToken);
        if (first < 0) yield break;

        // A JSON body (a non-streamed reply or an error sent with 200), whatever the Content-Type claims.
        if (first is '{' or '[')
        {
            var json = await body.ReadToEndAsync(maxBufferedBodyBytes, cancellationToken);
            decoder.DecodeBody(json.Span);
            foreach (var e in decoder.Pending) yield return e;
            decoder.Pending.Clear();
            yield break;
        }

        var parser = SseParser.Create(body, decoder.Decode);
        await foreach (var item in parser.EnumerateAsync(cancellationToken))
        {
            if (item.Data)
            {
                // Indexed: the list is refilled only when the parser runs again, after these are consumed.
                var pending = decoder.Pending;
                for (var i = 0; i < pending.Count; i++) yield return pending[i];
                pending.Clear();
            }
            if (decoder.Ended) yield break;
        }
    }
}
