using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace Aggregator.Web.Cluster;

/// <summary>
/// Runs the atomic Lua scripts behind shared counters (key pool, quotas, rate limits, budgets, throttles)
/// and reports when Redis cannot answer, so the caller counts on this node instead: a chat never fails
/// or waits because Redis is down. The outage is logged once, and its end once.
/// Scripts read the time with <c>redis.call('TIME')</c>, so nodes whose clocks disagree still agree on
/// windows and cooldowns.
/// </summary>
public sealed partial class SharedCounters(RedisConnection redis, ILogger<SharedCounters> log)
{
    int _down; // 1 from the first failed call until one succeeds again

    public RedisConnection Redis => redis;

    /// <summary>The script's result, or null when Redis is unreachable (count locally then).</summary>
    public async ValueTask<RedisResult?> TryRunAsync(string script, RedisKey[] keys, RedisValue[] args, string what)
    {
        try
        {
            if (!redis.Multiplexer.IsConnected)
            {
                Down(what, "not connected");
                return null;
            }
            var result = await redis.Database.ScriptEvaluateAsync(script, keys, args);
            if (Volatile.Read(ref _down) == 1 && Interlocked.Exchange(ref _down, 0) == 1) LogUp();
            return result;
        }
        catch (RedisServerException ex)
        {
            // A script error is a bug, not an outage: say so every time, and still serve.
            LogScriptFailed(ex, what);
            return null;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            Down(what, ex.GetType().Name);
            return null;
        }
    }

    /// <summary>Whether the last call failed (so state counted meanwhile on this node must be reconciled).</summary>
    public bool IsDown => Volatile.Read(ref _down) == 1;

    void Down(string what, string reason)
    {
        if (Interlocked.Exchange(ref _down, 1) == 0) LogDown(what, reason);
    }

    /// <summary>
    /// A sliding log: KEYS[1] a sorted set of Redis-time stamps; ARGV limit, window ms, a unique member.
    /// Returns 0 when counted, else the ms until the oldest entry leaves the window.
    /// </summary>
    public const string SlidingLogScript = Now + """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
        if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
          local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
          return math.max(tonumber(oldest[2]) + tonumber(ARGV[2]) - now, 1)
        end
        redis.call('ZADD', KEYS[1], now, ARGV[3])
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 0
        """;

    /// <summary>Milliseconds since the Unix epoch by Redis's clock (the first lines of every script).</summary>
    public const string Now = "local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n";

    [LoggerMessage(LogLevel.Warning, "Redis unreachable ({Reason}) while counting {What}: limits, quotas and key picks are counted on this node until it returns")]
    partial void LogDown(string what, string reason);

    [LoggerMessage(LogLevel.Information, "Redis answers again: limits, quotas and key picks are shared across nodes again")]
    partial void LogUp();

    [LoggerMessage(LogLevel.Error, "A shared-state script failed while counting {What}; counted on this node instead")]
    partial void LogScriptFailed(Exception ex, string what);
}

public static class SharedStateRegistration
{
    /// <summary>
    /// One interface, two implementations: <typeparamref name="TInProcess"/> (the embedded default, and the
    /// fallback the Redis one holds) and <typeparamref name="TRedis"/>, chosen when <see cref="ClusterMode.UsesRedis"/>.
    /// </summary>
    public static IServiceCollection AddSharedState<TService, TInProcess, TRedis>(this IServiceCollection services)
        where TService : class where TInProcess : class, TService where TRedis : class, TService
    {
        services.TryAddSingleton<SharedCounters>();
        services.AddSingleton<TInProcess>();
        services.AddSingleton<TRedis>();
        services.AddSingleton<TService>(sp => sp.GetService<ClusterMode>()?.UsesRedis == true
            ? sp.GetRequiredService<TRedis>()
            : sp.GetRequiredService<TInProcess>());
        return services;
    }
}
