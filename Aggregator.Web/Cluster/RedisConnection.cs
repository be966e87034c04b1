using StackExchange.Redis;

namespace Aggregator.Web.Cluster;

/// <summary>
/// The app's own connection to Redis for shared state (the SignalR backplane and the L2 cache keep
/// theirs). Connects in the background and never blocks start-up: a node whose Redis is down serves
/// on local fallbacks, and commands fail at once instead of queueing (<see cref="BacklogPolicy.FailFast"/>),
/// so a request never waits on a Redis that is not there. Keys and channels carry <see cref="Prefix"/>
/// (<c>Redis:InstanceName</c>), so several deployments (or test classes) can share one server.
/// </summary>
public sealed class RedisConnection : IDisposable
{
    readonly Lazy<ConnectionMultiplexer> _multiplexer;

    public RedisConnection(string configuration, string prefix, ILogger<RedisConnection> log)
    {
        Prefix = prefix;
        var options = FailFast(ConfigurationOptions.Parse(configuration));
        _multiplexer = new Lazy<ConnectionMultiplexer>(() =>
        {
            var m = ConnectionMultiplexer.Connect(options);
            m.ConnectionFailed += (_, e) => log.LogWarning("Redis connection lost ({Failure}); shared state falls back to this node until it returns", e.FailureType);
            m.ConnectionRestored += (_, e) =>
            {
                log.LogInformation("Redis connection restored");
                if (e.ConnectionType == ConnectionType.Subscription) Restored?.Invoke();
            };
            return m;
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>
    /// The settings every Redis client of the app uses (this one, the SignalR backplane, the L2 cache):
    /// connect in the background, fail a command at once while disconnected, give up on a stalled one
    /// after two seconds, reconnect every half second.
    /// </summary>
    public static ConfigurationOptions FailFast(ConfigurationOptions options)
    {
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 2000;
        options.SyncTimeout = 2000;
        options.AsyncTimeout = 2000;
        options.ConnectRetry = 1;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ReconnectRetryPolicy = new LinearRetry(500);
        return options;
    }

    /// <summary>Key and channel prefix, e.g. <c>aggregator:</c>.</summary>
    public string Prefix { get; }

    public IConnectionMultiplexer Multiplexer => _multiplexer.Value;
    public IDatabase Database => Multiplexer.GetDatabase();
    public ISubscriber Subscriber => Multiplexer.GetSubscriber();
    public bool IsConnected => _multiplexer.IsValueCreated && _multiplexer.Value.IsConnected;

    /// <summary>Raised when the connection comes back after a loss: messages published meanwhile were missed, so local copies should be dropped.</summary>
    public event Action? Restored;

    public RedisKey Key(string name) => Prefix + name;
    public RedisChannel Channel(string name) => RedisChannel.Literal(Prefix + name);

    public void Dispose()
    {
        if (_multiplexer.IsValueCreated) _multiplexer.Value.Dispose();
    }
}
