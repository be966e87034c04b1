using System.Security.Cryptography;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>
/// Production's layout in miniature: two app processes (the built dll, node "a" and node "b") on one fresh
/// PostgreSQL database and one Redis of their own, nginx from deploy/ in front, the mock upstream as the
/// provider. Tests talk to <see cref="BaseUrl"/> (the load balancer) and pin a request to a node with the
/// agg_node cookie; every response names the node that served it (X-Aggregator-Node).
/// </summary>
public class TwoNodeCluster : IAsyncLifetime
{
    public const string AdminEmail = "admin@cluster.test";
    /// <summary>A free user's messages per day in this cluster: small, so a quota test can exhaust it across nodes.</summary>
    public const int FreeMessagesPerDay = 3;

    readonly Dictionary<string, AppProcess> _nodes = [];
    readonly List<string> _dataFolders = [];
    ClusterUser? _admin;

    public string DatabaseName { get; } = "c_" + Guid.NewGuid().ToString("N")[..16];
    public string SecretsKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    public OwnRedis Redis { get; } = new();
    public MockUpstreamServer Mock { get; private set; } = null!;
    public LoadBalancer Balancer { get; private set; } = null!;
    public Uri BaseUrl => Balancer.BaseUrl;
    public int ProviderId { get; private set; }
    /// <summary>The provider's one key, known so a test can give it a fault at the mock (Mock.State.SetKeyFault).</summary>
    public string MockKey { get; } = $"sk-mock-cluster-{Guid.NewGuid():N}";
    public long FreeModelId { get; private set; }
    public long ProModelId { get; private set; }
    /// <summary>A model only the catalogue test changes.</summary>
    public long SpareModelId { get; private set; }
    public string ConnectionString => new NpgsqlConnectionStringBuilder(TestServers.Postgres) { Database = DatabaseName }.ConnectionString;

    public AppProcess Node(string name) => _nodes[name];

    public async Task InitializeAsync()
    {
        Mock = await MockUpstreamServer.StartAsync();
        await Redis.StartAsync();
        await PrepareDatabaseAsync();
        // One after the other: the first creates the shared Data Protection key ring the second then reads.
        var a = await StartNodeAsync("a");
        using (var first = new HttpClient()) await first.GetAsync(new Uri(a, "Account/Login")); // the key ring's first key, before b starts
        var b = await StartNodeAsync("b");
        Balancer = await LoadBalancer.StartAsync(a.Authority, b.Authority);
    }

    /// <summary>Every node's settings: what production needs per node (deploy/README.md), plus the mock's provider.</summary>
    IDictionary<string, string?> Settings(string node) => new Dictionary<string, string?>
    {
        ["ConnectionStrings:Postgres"] = ConnectionString,
        ["ConnectionStrings:Redis"] = Redis.Address,
        ["Redis:InstanceName"] = DatabaseName + ":",
        ["Secrets:Key"] = SecretsKey,
        ["Cluster:NodeName"] = node,
        ["Data:Folder"] = DataFolder(node),
        ["Demo:Enabled"] = "false",
        ["Admin:Email"] = AdminEmail,
        ["Sync:SchedulerEnabled"] = "false", // syncs only when a test asks
        ["Quotas:Free:MessagesPerDay"] = FreeMessagesPerDay.ToString(),
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information", // "Now listening on"
    };

    string DataFolder(string node)
    {
        var folder = Directory.CreateTempSubdirectory($"aggregator-node-{node}-").FullName;
        _dataFolders.Add(folder);
        return folder;
    }

    async Task<Uri> StartNodeAsync(string name)
    {
        var node = AppProcess.Start(Settings(name));
        _nodes[name] = node;
        return await node.ListeningAsync();
    }

    /// <summary>Migrates and seeds before any node starts, so no node caches a catalogue from before the seed.</summary>
    async Task PrepareDatabaseAsync()
    {
        await using var db = Db();
        await db.Database.MigrateAsync();
        var secrets = new SecretBox(Convert.FromBase64String(SecretsKey));
        var provider = await ChatTestApp.SeedProviderAsync(db, secrets, "mock", "Mock AI", Mock.OpenAIUrl, withKey: false);
        ProviderId = provider.Id;
        db.ApiKeys.Add(new ApiKey
        {
            ProviderId = provider.Id, Name = "cluster key", EncryptedSecret = secrets.Encrypt(MockKey),
            SecretFingerprint = secrets.Fingerprint(MockKey), MaskedHint = SecretBox.Mask(MockKey),
        });
        await db.SaveChangesAsync();
        FreeModelId = (await ChatTestApp.AddModelAsync(db, provider, "gpt-4o-mini", "GPT-4o mini", Tier.Free)).Id;
        ProModelId = (await ChatTestApp.AddModelAsync(db, provider, "gpt-4o", "GPT-4o", Tier.Pro)).Id;
        SpareModelId = (await ChatTestApp.AddModelAsync(db, provider, "gpt-spare", "Spare Model", Tier.Free)).Id;
    }

    public AppDbContext Db() => new PostgresDbContext(new DbContextOptionsBuilder<PostgresDbContext>().UseNpgsql(ConnectionString).Options);

    public async Task<T> QueryAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        await using var db = Db();
        return await query(db);
    }

    public Task<Message> MessageAsync(long id) => QueryAsync(db => db.Messages.AsNoTracking().SingleAsync(m => m.Id == id));

    /// <summary>Polls the database until the reply is no longer streaming.</summary>
    public Task<Message> FinishedAsync(long messageId, TimeSpan? timeout = null) =>
        Eventually.Until(() => MessageAsync(messageId), m => m.Status != MessageStatus.Streaming, $"message {messageId} to finish", timeout);

    /// <summary>A new user, registered through the load balancer (on node <paramref name="node"/> when given).</summary>
    public Task<ClusterUser> UserAsync(string? node = null) => ClusterUser.RegisterAsync(this, $"u-{Guid.NewGuid():N}@example.com", node);

    /// <summary>The cluster's admin (Admin:Email), registered once.</summary>
    public async Task<ClusterUser> AdminAsync() => _admin ??= await ClusterUser.RegisterAsync(this, AdminEmail, "a");

    public async Task DisposeAsync()
    {
        if (Balancer is not null) await Balancer.DisposeAsync();
        foreach (var node in _nodes.Values) await node.DisposeAsync();
        foreach (var folder in _dataFolders) try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        await Redis.DisposeAsync();
        if (Mock is not null) await Mock.DisposeAsync();
        await using var admin = new NpgsqlConnection(TestServers.Postgres);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{DatabaseName}\" WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}

/// <summary>The two-node fixtures start processes: one cluster at a time on this 2-core machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TwoNodeCollection
{
    public const string Name = "Two nodes behind nginx";
}
