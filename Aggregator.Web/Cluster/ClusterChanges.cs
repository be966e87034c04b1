using System.Text.Json;
using Aggregator.Web.Data;

namespace Aggregator.Web.Cluster;

/// <summary>
/// Committed changes between nodes: each one saved here is published on the cluster bus, and one heard
/// from another node runs this node's listeners (the catalogue and routing table, account states, the
/// API token cache), so an admin change reaches every node within the bus's latency. A node cut off
/// from Redis may have missed changes, so when the connection returns it drops all its copies.
/// HybridCache's own tag removal does not reach other nodes' L1 (it has no backplane): this does.
/// </summary>
public sealed partial class ClusterChanges(IClusterBus bus, IServiceProvider services, ILogger<ClusterChanges> log) : IHostedService
{
    const string Topic = "committed-changes";

    sealed record Wire(ChangedData Data, string[]? Users);

    RedisConnection? _redis;

    CommittedChangesInterceptor Interceptor => services.GetRequiredService<CommittedChangesInterceptor>();

    public Task PublishAsync(CommittedChange change) =>
        bus.PublishAsync(Topic, JsonSerializer.Serialize(new Wire(change.Data, change.UserIds?.ToArray())));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            bus.Subscribe(Topic, OnMessageAsync);
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
        {
            LogSubscribeFailed(ex.GetType().Name);
        }
        _redis = services.GetService<RedisConnection>();
        if (_redis is not null) _redis.Restored += OnRestored;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_redis is not null) _redis.Restored -= OnRestored;
        return Task.CompletedTask;
    }

    async Task OnMessageAsync(ClusterMessage message)
    {
        if (message.FromNode == bus.Node.Id) return; // its listeners ran when it was saved
        var wire = JsonSerializer.Deserialize<Wire>(message.Payload);
        if (wire is null) return;
        await Interceptor.NotifyHereAsync(new CommittedChange(wire.Data, wire.Users, Here: false));
    }

    void OnRestored()
    {
        LogRestored();
        // Raised on the Redis client's thread: drop the copies off it (the listeners never throw).
        _ = Task.Run(() => Interceptor.NotifyHereAsync(CommittedChange.Everything).AsTask());
    }

    [LoggerMessage(LogLevel.Information, "Redis is back: dropping this node's cached catalogue, routing, accounts and tokens (changes may have been missed)")]
    partial void LogRestored();

    [LoggerMessage(LogLevel.Warning, "Could not subscribe to committed changes ({Reason}); this node relies on cache expiry until Redis returns")]
    partial void LogSubscribeFailed(string reason);
}
