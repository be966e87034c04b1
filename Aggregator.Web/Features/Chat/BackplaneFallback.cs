using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using StackExchange.Redis;

namespace Aggregator.Web.Features.Chat;

/// <summary>The SignalR backplane's own Redis connection, kept so delivery can tell whether Redis is there.</summary>
public sealed class BackplaneConnection
{
    volatile IConnectionMultiplexer? _multiplexer;

    /// <summary>True when the backplane has connected and lost the connection (before the first connect, Redis is tried).</summary>
    public bool IsDown => _multiplexer is { IsConnected: false };

    /// <summary>Raised when the backplane's subscription connection comes back after a loss.</summary>
    public event Action? Restored;

    public async Task<IConnectionMultiplexer> ConnectAsync(ConfigurationOptions options, TextWriter log)
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(options, log);
        multiplexer.ConnectionRestored += (_, e) => { if (e.ConnectionType == ConnectionType.Subscription) Restored?.Invoke(); };
        _multiplexer = multiplexer;
        return multiplexer;
    }
}

/// <summary>
/// The Redis backplane, with this node's connections served directly while Redis is down. Every
/// connection is tracked by both the Redis manager and a local one; a send goes through Redis (which
/// reaches every node, this one included) and only when Redis is down or the publish fails does it go to
/// the local manager instead, so a reply still reaches the user's connections on the node producing it
/// and nothing is delivered twice. Subscriptions the Redis client held are restored when Redis returns.
/// A connection opened while Redis is down is served locally; it hears other nodes once it reconnects.
/// </summary>
public sealed partial class BackplaneFallback<THub>(
    RedisHubLifetimeManager<THub> redis,
    DefaultHubLifetimeManager<THub> local,
    BackplaneConnection backplane,
    ILogger<BackplaneFallback<THub>> log) : HubLifetimeManager<THub> where THub : Hub
{
    int _warned; // one warning per outage, not one per delta
    // Connections opened while the backplane could not subscribe for them: subscribed when it returns, so they hear other nodes.
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, HubConnectionContext> _unsubscribed = new(StringComparer.Ordinal);
    int _hooked;

    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        if (Interlocked.Exchange(ref _hooked, 1) == 0) backplane.Restored += () => _ = SubscribeMissedAsync();
        await local.OnConnectedAsync(connection);
        if (!await TryRedisAsync(r => r.OnConnectedAsync(connection))) _unsubscribed[connection.ConnectionId] = connection;
    }

    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        _unsubscribed.TryRemove(connection.ConnectionId, out _);
        await local.OnDisconnectedAsync(connection);
        await TryRedisAsync(r => r.OnDisconnectedAsync(connection));
    }

    async Task SubscribeMissedAsync()
    {
        foreach (var (id, connection) in _unsubscribed)
            if (!connection.ConnectionAborted.IsCancellationRequested && await TryRedisAsync(r => r.OnConnectedAsync(connection)))
                _unsubscribed.TryRemove(id, out _);
    }

    public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(m => m.SendAllAsync(methodName, args, cancellationToken));

    public override Task SendAllExceptAsync(string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        SendAsync(m => m.SendAllExceptAsync(methodName, args, excludedConnectionIds, cancellationToken));

    public override Task SendConnectionAsync(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(m => m.SendConnectionAsync(connectionId, methodName, args, cancellationToken));

    public override Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(m => m.SendConnectionsAsync(connectionIds, methodName, args, cancellationToken));

    public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(m => m.SendGroupAsync(groupName, methodName, args, cancellationToken));

    public override Task SendGroupsAsync(IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(m => m.SendGroupsAsync(groupNames, methodName, args, cancellationToken));

    public override Task SendGroupExceptAsync(string groupName, string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        SendAsync(m => m.SendGroupExceptAsync(groupName, methodName, args, excludedConnectionIds, cancellationToken));

    public override Task SendUserAsync(string userId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(m => m.SendUserAsync(userId, methodName, args, cancellationToken));

    public override Task SendUsersAsync(IReadOnlyList<string> userIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(m => m.SendUsersAsync(userIds, methodName, args, cancellationToken));

    public override async Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default)
    {
        await local.AddToGroupAsync(connectionId, groupName, cancellationToken);
        await TryRedisAsync(r => r.AddToGroupAsync(connectionId, groupName, cancellationToken));
    }

    public override async Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default)
    {
        await local.RemoveFromGroupAsync(connectionId, groupName, cancellationToken);
        await TryRedisAsync(r => r.RemoveFromGroupAsync(connectionId, groupName, cancellationToken));
    }

    public override async Task<T> InvokeConnectionAsync<T>(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken)
    {
        if (!backplane.IsDown)
        {
            try { return await redis.InvokeConnectionAsync<T>(connectionId, methodName, args, cancellationToken); }
            catch (Exception ex) when (IsRedisFailure(ex)) { Warn(ex); }
        }
        return await local.InvokeConnectionAsync<T>(connectionId, methodName, args, cancellationToken);
    }

    public override async Task SetConnectionResultAsync(string connectionId, CompletionMessage result)
    {
        if (local.TryGetReturnType(result.InvocationId!, out _)) await local.SetConnectionResultAsync(connectionId, result);
        else await redis.SetConnectionResultAsync(connectionId, result);
    }

    public override bool TryGetReturnType(string invocationId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Type? type) =>
        local.TryGetReturnType(invocationId, out type) || redis.TryGetReturnType(invocationId, out type);

    async Task SendAsync(Func<HubLifetimeManager<THub>, Task> send)
    {
        if (!backplane.IsDown)
        {
            try
            {
                await send(redis);
                if (Interlocked.Exchange(ref _warned, 0) == 1) LogBackplaneBack();
                return;
            }
            catch (Exception ex) when (IsRedisFailure(ex)) { Warn(ex); } // not published: deliver here instead
        }
        else if (Interlocked.Exchange(ref _warned, 1) == 0) LogBackplaneDown("disconnected");
        await send(local);
    }

    async Task<bool> TryRedisAsync(Func<HubLifetimeManager<THub>, Task> action)
    {
        try
        {
            await action(redis);
            return true;
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            Warn(ex);
            return false;
        }
    }

    void Warn(Exception ex)
    {
        if (Interlocked.Exchange(ref _warned, 1) == 0) LogBackplaneDown(ex.GetType().Name);
    }

    static bool IsRedisFailure(Exception ex) => ex is RedisException or TimeoutException or ObjectDisposedException;

    [LoggerMessage(LogLevel.Warning, "SignalR backplane unreachable ({Reason}): replies reach this node's connections only until Redis returns")]
    partial void LogBackplaneDown(string reason);

    [LoggerMessage(LogLevel.Information, "SignalR backplane reachable again: replies reach every node")]
    partial void LogBackplaneBack();
}
