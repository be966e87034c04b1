using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using Aggregator.Web.Data;
using Aggregator.Web.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Aggregator.StreamBench;

/// <summary>
/// One layout under test: a fresh PostgreSQL database (the app's migrations, a provider at the mock, one free
/// model, the bench's users), one or two app nodes from the Release build (as shipped: Production, its own
/// appsettings.json, Redis for the backplane and shared state), and for two nodes nginx from deploy/ in front.
/// </summary>
public sealed class BenchCluster : IAsyncDisposable
{
    public const string Password = "Bench-Passw0rd!";
    public const string ModelId = "gpt-4o-mini";

    readonly List<NodeProcess> _nodes = [];
    readonly string _database = "bench_" + Guid.NewGuid().ToString("N")[..12];
    readonly string _secretsKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    string? _nginxFolder;
    Process? _nginx;

    public Uri BaseUrl { get; private set; } = null!;
    public long ModelRowId { get; private set; }
    public IReadOnlyList<NodeProcess> Nodes => _nodes;
    public IReadOnlyList<string> Emails { get; private set; } = [];

    string ConnectionString => new NpgsqlConnectionStringBuilder(Env("AGG_TEST_POSTGRES")) { Database = _database, MaxPoolSize = 100 }.ConnectionString;

    public static async Task<BenchCluster> StartAsync(int nodes, int users, string mockOpenAIUrl)
    {
        var cluster = new BenchCluster();
        await cluster.SeedAsync(users, mockOpenAIUrl);
        for (var i = 0; i < nodes; i++)
        {
            cluster._nodes.Add(await NodeProcess.StartAsync(cluster.Settings(((char)('a' + i)).ToString())));
            if (i == 0) await new HttpClient().GetAsync(new Uri(cluster._nodes[0].BaseUrl, "Account/Login")); // the shared key ring's first key
        }
        cluster.BaseUrl = nodes == 1 ? cluster._nodes[0].BaseUrl : await cluster.StartNginxAsync();
        return cluster;
    }

    Dictionary<string, string> Settings(string node) => new()
    {
        ["ConnectionStrings__Postgres"] = ConnectionString,
        ["ConnectionStrings__Redis"] = Env("AGG_TEST_REDIS"),
        ["Redis__InstanceName"] = _database + ":",
        ["Secrets__Key"] = _secretsKey,
        ["Cluster__NodeName"] = node,
        ["Data__Folder"] = Directory.CreateTempSubdirectory("aggregator-stream-bench-").FullName,
        ["Demo__Enabled"] = "false",
        ["Sync__SchedulerEnabled"] = "false",
        ["Admin__Email"] = "nobody-admin@example.invalid",
        // Checked on every send, set too high to refuse.
        ["Quotas__Free__RequestsPerMinute"] = "100000000",
        ["Quotas__Free__MessagesPerDay"] = "100000000",
        ["Quotas__Free__TokensPerDay"] = "100000000000",
        ["Login__AttemptsPerAddress"] = "100000",
    };

    async Task SeedAsync(int users, string mockOpenAIUrl)
    {
        await using var db = new PostgresDbContext(new DbContextOptionsBuilder<PostgresDbContext>().UseNpgsql(ConnectionString).Options);
        await db.Database.MigrateAsync();
        var box = new SecretBox(Convert.FromBase64String(_secretsKey));
        const string secret = "sk-stream-bench-key";
        var provider = new Provider
        {
            Name = "bench", DisplayName = "Bench mock", Kind = ProviderKind.Direct, ApiStandard = ApiStandard.OpenAI, BaseUrl = mockOpenAIUrl, Enabled = true,
        };
        provider.Keys.Add(new ApiKey { Name = "bench key", EncryptedSecret = box.Encrypt(secret), SecretFingerprint = box.Fingerprint(secret), MaskedHint = SecretBox.Mask(secret) });
        var now = DateTime.UtcNow;
        var model = new AiModel
        {
            ModelId = ModelId, DisplayName = "GPT-4o mini", Type = ModelType.Chat, TierRequired = Tier.Free, ContextWindow = 128_000,
            FirstSeenAt = now, LastSeenAt = now, UpdatedAt = now, ContentHash = "bench",
        };
        provider.Models.Add(model);
        db.Providers.Add(provider);
        // Distinct users, one password hash computed once (the app verifies it at each sign-in, as for anyone).
        var hash = new PasswordHasher<AppUser>().HashPassword(new AppUser(), Password);
        var emails = Enumerable.Range(0, users).Select(i => $"bench-{i:D5}@example.invalid").ToList();
        foreach (var email in emails)
            db.Users.Add(new AppUser
            {
                UserName = email, NormalizedUserName = email.ToUpperInvariant(), Email = email, NormalizedEmail = email.ToUpperInvariant(),
                EmailConfirmed = true, PasswordHash = hash, SecurityStamp = Guid.NewGuid().ToString("N"), Tier = Tier.Free,
            });
        await db.SaveChangesAsync();
        ModelRowId = model.Id;
        Emails = emails;
    }

    async Task<Uri> StartNginxAsync()
    {
        _nginxFolder = Directory.CreateTempSubdirectory("aggregator-stream-bench-nginx-").FullName;
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(_nginxFolder, (UnixFileMode)0b111_101_101); // nginx workers (nobody) use it
        var port = NodeProcess.FreePort();
        var config = (await File.ReadAllTextAsync(Path.Combine(RepoRoot(), "deploy", "nginx.conf.template")))
            .Replace("{{DIR}}", _nginxFolder).Replace("{{LISTEN}}", $"127.0.0.1:{port}")
            .Replace("{{NODE_A}}", _nodes[0].BaseUrl.Authority).Replace("{{NODE_B}}", _nodes[1].BaseUrl.Authority);
        await File.WriteAllTextAsync(Path.Combine(_nginxFolder, "nginx.conf"), config);
        var nginx = Environment.GetEnvironmentVariable("AGG_NGINX") is { Length: > 0 } path ? path : "/usr/sbin/nginx";
        _nginx = Process.Start(new ProcessStartInfo(nginx)
        {
            ArgumentList = { "-c", Path.Combine(_nginxFolder, "nginx.conf"), "-p", _nginxFolder, "-e", Path.Combine(_nginxFolder, "error.log"), "-g", "daemon off;" },
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("nginx did not start");
        var url = new Uri($"http://127.0.0.1:{port}/");
        using var http = new HttpClient();
        for (var until = DateTime.UtcNow.AddSeconds(10); ; await Task.Delay(100))
        {
            try { await http.GetAsync(new Uri(url, "Account/Login")); return url; }
            catch (HttpRequestException) when (DateTime.UtcNow < until) { }
        }
    }

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Aggregator.sln"))) return dir.FullName;
        throw new InvalidOperationException("Aggregator.sln not found above " + AppContext.BaseDirectory);
    }

    static string Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v
        ? v : throw new InvalidOperationException($"{name} is not set: run ./bench.sh streams, which starts PostgreSQL and Redis.");

    public async ValueTask DisposeAsync()
    {
        if (_nginx is { HasExited: false })
        {
            _nginx.Kill(entireProcessTree: true);
            await _nginx.WaitForExitAsync();
        }
        foreach (var node in _nodes) await node.DisposeAsync();
        if (_nginxFolder is not null) try { Directory.Delete(_nginxFolder, true); } catch (IOException) { }
        await using var admin = new NpgsqlConnection(Env("AGG_TEST_POSTGRES"));
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}

/// <summary>An app node: `dotnet Aggregator.Web.dll` from the Release build, its output drained, its /proc readable.</summary>
public sealed class NodeProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly Queue<string> _lastLines = new();

    NodeProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }
    public int Pid => _process.Id;
    public Uri BaseUrl { get; private set; } = null!;

    public static async Task<NodeProcess> StartAsync(Dictionary<string, string> settings)
    {
        var configuration = typeof(NodeProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var dll = Path.Combine(BenchCluster.RepoRoot(), "Aggregator.Web", "bin", configuration, "net10.0", "Aggregator.Web.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing: ./bench.sh streams builds it.");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll }, WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        foreach (var (key, value) in settings) start.Environment[key] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException("The node did not start.");
        var node = new NodeProcess(process, settings["Cluster__NodeName"]);
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Observe(string? line)
        {
            if (line is null) return;
            lock (node._lastLines) { node._lastLines.Enqueue(line); if (node._lastLines.Count > 40) node._lastLines.Dequeue(); }
            var at = line.IndexOf("Now listening on: ", StringComparison.Ordinal);
            if (at >= 0) listening.TrySetResult(new Uri(line[(at + 18)..].Trim()));
        }
        process.OutputDataReceived += (_, e) => Observe(e.Data);
        process.ErrorDataReceived += (_, e) => Observe(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _ = process.WaitForExitAsync().ContinueWith(_ => listening.TrySetException(new InvalidOperationException(
            $"Node {node.Name} exited ({process.ExitCode}):\n{string.Join('\n', node._lastLines)}")), TaskScheduler.Default);
        node.BaseUrl = await listening.Task.WaitAsync(TimeSpan.FromSeconds(120));
        return node;
    }

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
