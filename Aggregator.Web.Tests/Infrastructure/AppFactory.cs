using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Aggregator.Web.Tests.Infrastructure;

/// <summary>
/// The real app against a fresh PostgreSQL database and a private Redis key prefix.
/// One instance per test class (IClassFixture), so classes never see each other's rows.
/// </summary>
public class AppFactory : WebApplicationFactory<Program>
{
    readonly AppFactory? _sameDataAs;

    public AppFactory() { }

    /// <summary>
    /// A second node of <paramref name="sameDataAs"/>'s cluster: its own process state (DI container, caches,
    /// pools) on the same database, Redis prefix and secrets key. The first node owns (and drops) the database.
    /// </summary>
    protected AppFactory(AppFactory sameDataAs)
    {
        _sameDataAs = sameDataAs;
        DatabaseName = sameDataAs.DatabaseName;
        SecretsKey = sameDataAs.SecretsKey;
    }

    public string DatabaseName { get; } = "t_" + Guid.NewGuid().ToString("N")[..16];
    public string SecretsKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    public string DataFolder { get; } = Directory.CreateTempSubdirectory("aggregator-test-").FullName;
    /// <summary>Cluster:NodeName of this node ("a" for the first, "b" for a second made with the copying constructor).</summary>
    public string NodeName => _sameDataAs is null ? "a" : "b";
    public string ConnectionString => new NpgsqlConnectionStringBuilder(TestServers.Postgres) { Database = DatabaseName }.ConnectionString;

    /// <summary>Extra settings a test class needs (e.g. Admin:Email); applied over the defaults.</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = ConnectionString,
            ["ConnectionStrings:Redis"] = TestServers.Redis,
            ["Redis:InstanceName"] = DatabaseName + ":",
            ["Secrets:Key"] = SecretsKey,
            ["Data:Folder"] = DataFolder,
            ["Demo:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Cluster:NodeName"] = NodeName,
        };
        if (_sameDataAs is not null)
            foreach (var (key, value) in _sameDataAs.Settings) settings[key] = value; // same configuration as the first node
        foreach (var (key, value) in Settings) settings[key] = value;
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings));
        // UseSetting as well: Program reads some settings before ConfigureAppConfiguration callbacks run.
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try { Directory.Delete(DataFolder, recursive: true); } catch (IOException) { }
        GC.SuppressFinalize(this);
        if (_sameDataAs is not null) return; // the first node drops the shared database
        await using var admin = new NpgsqlConnection(TestServers.Postgres);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{DatabaseName}\" WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}

/// <summary>Node "b" of a two-node cluster in this test process: <paramref name="first"/>'s database, Redis prefix, key and settings.</summary>
public sealed class SecondNode(AppFactory first) : AppFactory(first);
