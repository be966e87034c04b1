using System.Collections.Concurrent;
using Aggregator.Web.Cluster;
using StackExchange.Redis;

namespace Aggregator.Web.Security;

/// <summary>
/// Fixed-window attempt counters by name, what the login throttle and the API's failed-authentication
/// limit count. <see cref="AttemptWindows"/> in this process, <see cref="RedisAttemptWindows"/> across
/// nodes, so a guesser gains nothing by alternating nodes.
/// </summary>
public interface IAttemptWindows
{
    /// <summary>
    /// Counts one attempt on every counter, unless one is already at its limit: then nothing is counted and
    /// the wait until that counter's window ends is returned. Null: the attempt may go ahead.
    /// </summary>
    ValueTask<TimeSpan?> HitAsync(IReadOnlyList<(string Name, int Limit)> counters, TimeSpan window, CancellationToken cancellationToken);

    /// <summary>The wait when the counter is at its limit, without counting; otherwise null.</summary>
    ValueTask<TimeSpan?> PeekAsync(string name, int limit, CancellationToken cancellationToken);
}

/// <summary>In-process counters (one node; and the Redis one's fallback). Expired windows are dropped as the map grows.</summary>
public sealed class AttemptWindows(TimeProvider time) : IAttemptWindows
{
    const int PruneAbove = 10_000;

    sealed class Window(DateTimeOffset ends)
    {
        public DateTimeOffset Ends = ends;
        public int Count;
    }

    readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);
    readonly Lock _lock = new();

    public ValueTask<TimeSpan?> HitAsync(IReadOnlyList<(string Name, int Limit)> counters, TimeSpan window, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (_windows.Count > PruneAbove)
                foreach (var (name, w) in _windows)
                    if (w.Ends <= now) _windows.TryRemove(name, out _);
            var current = counters.Select(c => (c.Limit, Window: Current(c.Name, now, window))).ToList();
            foreach (var (limit, w) in current)
                if (w.Count >= limit) return ValueTask.FromResult<TimeSpan?>(w.Ends - now);
            foreach (var (_, w) in current) w.Count++;
            return ValueTask.FromResult<TimeSpan?>(null);
        }
    }

    public ValueTask<TimeSpan?> PeekAsync(string name, int limit, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_lock)
            return ValueTask.FromResult<TimeSpan?>(_windows.TryGetValue(name, out var w) && w.Ends > now && w.Count >= limit ? w.Ends - now : null);
    }

    Window Current(string name, DateTimeOffset now, TimeSpan window)
    {
        if (_windows.TryGetValue(name, out var w) && w.Ends > now) return w;
        return _windows[name] = new Window(now + window);
    }
}

/// <summary>Across nodes: a Redis counter per name that expires with its window (so Redis's clock rules), one script per attempt.</summary>
public sealed class RedisAttemptWindows(AttemptWindows local, SharedCounters redis) : IAttemptWindows
{
    // KEYS: counters. ARGV: window ms, then each counter's limit. Returns 0, or ms until the refusing window ends.
    const string HitScript = """
        for i, key in ipairs(KEYS) do
          if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i + 1]) then
            local left = redis.call('PTTL', key)
            if left > 0 then return left end
            redis.call('PEXPIRE', key, ARGV[1])
            return tonumber(ARGV[1])
          end
        end
        for _, key in ipairs(KEYS) do
          if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
        end
        return 0
        """;

    // KEYS: counter. ARGV: limit.
    const string PeekScript = """
        if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then return 0 end
        return math.max(redis.call('PTTL', KEYS[1]), 1)
        """;

    public async ValueTask<TimeSpan?> HitAsync(IReadOnlyList<(string Name, int Limit)> counters, TimeSpan window, CancellationToken cancellationToken)
    {
        RedisValue[] args = [(long)window.TotalMilliseconds, .. counters.Select(c => (RedisValue)c.Limit)];
        var result = await redis.TryRunAsync(HitScript, [.. counters.Select(c => redis.Redis.Key("attempts:" + c.Name))], args, "login and API authentication attempts");
        if (result is null) return await local.HitAsync(counters, window, cancellationToken);
        return (long)result > 0 ? TimeSpan.FromMilliseconds((long)result) : null;
    }

    public async ValueTask<TimeSpan?> PeekAsync(string name, int limit, CancellationToken cancellationToken)
    {
        var result = await redis.TryRunAsync(PeekScript, [redis.Redis.Key("attempts:" + name)], [limit], "login and API authentication attempts");
        if (result is null) return await local.PeekAsync(name, limit, cancellationToken);
        return (long)result > 0 ? TimeSpan.FromMilliseconds((long)result) : null;
    }
}
