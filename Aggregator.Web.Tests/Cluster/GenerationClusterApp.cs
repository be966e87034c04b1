using System.Collections.Concurrent;
using System.Diagnostics;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>
/// Node "a" of a two-node chat cluster (the mock upstream, one database, one Redis prefix) with node "b"
/// beside it. Sweeps run often so a dead node is noticed within a test's patience. Node a's pushes to
/// clients go through a <see cref="PushRecorder"/>: when each was sent, and an optional delay that makes
/// SignalR look slow.
/// </summary>
public sealed class GenerationClusterApp : ChatTestApp
{
    SecondNode? b;
    readonly Lock gate = new();

    public PushRecorder Pushes { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Chat:SweepIntervalMs"] = "300",
    };

    /// <summary>Node b, started on first use.</summary>
    public SecondNode B
    {
        get
        {
            lock (gate)
            {
                if (b is null)
                {
                    b = new SecondNode(this);
                    b.StartServer();
                }
                return b;
            }
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IHubContext<ChatHub, IChatClient>>(sp =>
            new RecordingHubContext(sp.GetRequiredService<IHubContext<ChatHub>>(), Pushes)));
    }

    public override async ValueTask DisposeAsync()
    {
        if (b is not null) await b.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>A hub connection of <paramref name="user"/> (signed in through node a) to any node of the cluster.</summary>
    public static async Task<ChatConnection> ConnectAsync(ChatUser user, AppFactory node)
    {
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(node.Server.BaseAddress, ChatExtensions.HubPath.TrimStart('/')), o =>
            {
                o.Transports = HttpTransportType.LongPolling;
                o.HttpMessageHandlerFactory = _ => new CookieContainerHandler(user.Cookies) { InnerHandler = node.Server.CreateHandler() };
            })
            .Build();
        var connection = new ChatConnection(hub);
        await hub.StartAsync();
        return connection;
    }
}

/// <summary>When node a pushed each delta (server side, before the send), and how long each send is made to take.</summary>
public sealed class PushRecorder
{
    public ConcurrentQueue<(long MessageId, int Seq, long At)> Deltas { get; } = new();
    public TimeSpan DeltaDelay { get; set; }

    public List<TimeSpan> TimesOf(long messageId)
    {
        var at = Deltas.Where(d => d.MessageId == messageId).OrderBy(d => d.Seq).Select(d => d.At).ToList();
        return at.Select(t => Stopwatch.GetElapsedTime(at[0], t)).ToList();
    }
}

sealed class RecordingHubContext(IHubContext<ChatHub> inner, PushRecorder recorder) : IHubContext<ChatHub, IChatClient>
{
    public IHubClients<IChatClient> Clients { get; } = new RecordingClients(inner.Clients, recorder);
    public IGroupManager Groups => inner.Groups;
}

sealed class RecordingClients(IHubClients inner, PushRecorder recorder) : IHubClients<IChatClient>
{
    IChatClient Wrap(IClientProxy proxy) => new RecordingChatClient(proxy, recorder);
    public IChatClient All => Wrap(inner.All);
    public IChatClient AllExcept(IReadOnlyList<string> excludedConnectionIds) => Wrap(inner.AllExcept(excludedConnectionIds));
    public IChatClient Client(string connectionId) => Wrap(inner.Client(connectionId));
    public IChatClient Clients(IReadOnlyList<string> connectionIds) => Wrap(inner.Clients(connectionIds));
    public IChatClient Group(string groupName) => Wrap(inner.Group(groupName));
    public IChatClient GroupExcept(string groupName, IReadOnlyList<string> excludedConnectionIds) => Wrap(inner.GroupExcept(groupName, excludedConnectionIds));
    public IChatClient Groups(IReadOnlyList<string> groupNames) => Wrap(inner.Groups(groupNames));
    public IChatClient User(string userId) => Wrap(inner.User(userId));
    public IChatClient Users(IReadOnlyList<string> userIds) => Wrap(inner.Users(userIds));
}

sealed class RecordingChatClient(IClientProxy proxy, PushRecorder recorder) : IChatClient
{
    public Task GenerationStarted(GenerationStartedEvent started) => proxy.SendAsync(nameof(GenerationStarted), started);

    public async Task Delta(TokenDelta delta)
    {
        recorder.Deltas.Enqueue((delta.MessageId, delta.Seq, Stopwatch.GetTimestamp()));
        if (recorder.DeltaDelay > TimeSpan.Zero) await Task.Delay(recorder.DeltaDelay);
        await proxy.SendAsync(nameof(Delta), delta);
    }

    public Task Snapshot(RenderedSnapshot snapshot) => proxy.SendAsync(nameof(Snapshot), snapshot);
    public Task GenerationCompleted(GenerationCompletedEvent completed) => proxy.SendAsync(nameof(GenerationCompleted), completed);
    public Task ConversationChanged(ConversationSummary conversation) => proxy.SendAsync(nameof(ConversationChanged), conversation);
    public Task AccountChanged(AccountChangedEvent changed) => proxy.SendAsync(nameof(AccountChanged), changed);
}
