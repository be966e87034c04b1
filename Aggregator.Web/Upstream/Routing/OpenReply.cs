using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Protocols;

namespace Aggregator.Web.Upstream.Routing;

/// <summary>
/// An upstream reply that got past failover: its first events are buffered, the rest are still on
/// the wire. Disposing it aborts the upstream request if it is still running.
/// </summary>
internal sealed class OpenReply(
    RouteInfo route, RouteCandidate candidate, KeyLease key, HttpResponseMessage response,
    IAsyncEnumerator<StreamEvent> events, StreamDecoder decoder, List<StreamEvent> buffered,
    CancellationTokenSource attempt) : IAsyncDisposable
{
    public RouteInfo Route { get; } = route;
    public RouteCandidate Candidate { get; } = candidate;
    public KeyLease Key { get; } = key;
    public IAsyncEnumerator<StreamEvent> Events { get; } = events;
    public StreamDecoder Decoder { get; } = decoder;
    /// <summary>Events read while deciding the attempt succeeded, up to and including the first delta.</summary>
    public List<StreamEvent> Buffered { get; } = buffered;
    /// <summary>Times the attempt out; re-armed with the idle timeout for every event.</summary>
    public CancellationTokenSource Attempt { get; } = attempt;

    public async ValueTask DisposeAsync()
    {
        try { await Events.DisposeAsync(); }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException or UpstreamFailure) { }
        response.Dispose();
        Attempt.Dispose();
    }
}
