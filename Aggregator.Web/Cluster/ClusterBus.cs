using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Aggregator.Web.Cluster;

/// <summary>A message every node hears: which node sent it, and a small payload (ids, flags).</summary>
public sealed record ClusterMessage(string Topic, string FromNode, string Payload);

/// <summary>
/// Fire-and-forget broadcast to every node, this one included: "this changed, drop your copy",
/// "stop that reply". Not a queue: a node that is down or cut off from Redis misses messages, so
/// what listens must also converge on its own (expiry, a re-read when Redis returns).
/// </summary>
public interface IClusterBus
{
    NodeIdentity Node { get; }

    /// <summary>Sends to every node's subscribers of <paramref name="topic"/>; when Redis cannot be reached, to this node's only.</summary>
    Task PublishAsync(string topic, string payload);

    /// <summary>Handlers run on a thread-pool thread, one message at a time per topic on Redis; they must not throw.</summary>
    void Subscribe(string topic, Func<ClusterMessage, Task> handler);
}

/// <summary>One node (the embedded default): a publish is a local call.</summary>
public sealed class InProcessClusterBus(NodeIdentity node, ILogger<InProcessClusterBus> log) : IClusterBus
{
    readonly ConcurrentDictionary<string, List<Func<ClusterMessage, Task>>> _handlers = new(StringComparer.Ordinal);

    public NodeIdentity Node => node;

    public Task PublishAsync(string topic, string payload) => ClusterBusHandlers.RunAsync(_handlers, new ClusterMessage(topic, node.Id, payload), log);

    public void Subscribe(string topic, Func<ClusterMessage, Task> handler) => ClusterBusHandlers.Add(_handlers, topic, handler);
}

/// <summary>Redis pub/sub, channel <c>{prefix}bus:{topic}</c>, payload <c>{node}\n{payload}</c>.</summary>
public sealed class RedisClusterBus : IClusterBus
{
    readonly NodeIdentity _node;
    readonly RedisConnection _redis;
    readonly ILogger<RedisClusterBus> _log;
    readonly ConcurrentDictionary<string, List<Func<ClusterMessage, Task>>> _handlers = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, bool> _subscribed = new(StringComparer.Ordinal);

    public RedisClusterBus(NodeIdentity node, RedisConnection redis, ILogger<RedisClusterBus> log)
    {
        _node = node;
        _redis = redis;
        _log = log;
        // A topic whose subscription failed (Redis down at start-up) is subscribed when the connection comes back.
        redis.Restored += () => { foreach (var topic in _handlers.Keys) TrySubscribe(topic); };
    }

    public NodeIdentity Node => _node;

    public async Task PublishAsync(string topic, string payload)
    {
        try
        {
            await _redis.Subscriber.PublishAsync(_redis.Channel("bus:" + topic), _node.Id + "\n" + payload);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            _log.LogWarning("Redis unreachable ({Reason}): {Topic} reaches this node only", ex.GetType().Name, topic);
            await ClusterBusHandlers.RunAsync(_handlers, new ClusterMessage(topic, _node.Id, payload), _log);
        }
    }

    public void Subscribe(string topic, Func<ClusterMessage, Task> handler)
    {
        ClusterBusHandlers.Add(_handlers, topic, handler);
        TrySubscribe(topic);
    }

    void TrySubscribe(string topic)
    {
        if (!_subscribed.TryAdd(topic, true)) return;
        try
        {
            // Queued delivery: one message at a time per topic, in publish order. Re-subscribed by the client after a reconnect.
            var queue = _redis.Subscriber.Subscribe(_redis.Channel("bus:" + topic));
            queue.OnMessage(async m =>
            {
                var text = (string?)m.Message ?? "";
                var split = text.IndexOf('\n');
                if (split < 0) return;
                await ClusterBusHandlers.RunAsync(_handlers, new ClusterMessage(topic, text[..split], text[(split + 1)..]), _log);
            });
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _subscribed.TryRemove(topic, out _);
            _log.LogWarning("Could not subscribe to {Topic} ({Reason}); retried when Redis returns", topic, ex.GetType().Name);
        }
    }
}

static class ClusterBusHandlers
{
    public static void Add(ConcurrentDictionary<string, List<Func<ClusterMessage, Task>>> handlers, string topic, Func<ClusterMessage, Task> handler)
    {
        var list = handlers.GetOrAdd(topic, _ => []);
        lock (list) list.Add(handler);
    }

    public static async Task RunAsync(ConcurrentDictionary<string, List<Func<ClusterMessage, Task>>> handlers, ClusterMessage message, ILogger log)
    {
        if (!handlers.TryGetValue(message.Topic, out var list)) return;
        Func<ClusterMessage, Task>[] copy;
        lock (list) copy = [.. list];
        foreach (var handler in copy)
        {
            try { await handler(message); }
            catch (Exception ex) { log.LogWarning(ex, "A handler of cluster message {Topic} failed", message.Topic); }
        }
    }
}
