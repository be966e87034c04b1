using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace Aggregator.Benchmarks;

/// <summary>
/// The real app on a fresh PostgreSQL database (from AGG_TEST_POSTGRES, which bench.sh sets), or with
/// <paramref name="embedded"/> on the embedded default: a SQLite file in a fresh temporary folder.
/// </summary>
public sealed class BenchApp(bool embedded = false) : WebApplicationFactory<Program>
{
    public bool Embedded => embedded;
    readonly string _server = Environment.GetEnvironmentVariable("AGG_TEST_POSTGRES")
        ?? throw new InvalidOperationException("AGG_TEST_POSTGRES is not set: run benchmarks with ./bench.sh");
    public string Database { get; } = "bench_" + Guid.NewGuid().ToString("N")[..12];
    public string ConnectionString => new NpgsqlConnectionStringBuilder(_server) { Database = Database }.ConnectionString;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("ConnectionStrings:Postgres", embedded ? "" : ConnectionString);
        builder.UseSetting("ConnectionStrings:Redis", Environment.GetEnvironmentVariable("AGG_TEST_REDIS") ?? "");
        builder.UseSetting("Redis:InstanceName", Database + ":");
        builder.UseSetting("Secrets:Key", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        builder.UseSetting("Data:Folder", Path.Combine(Path.GetTempPath(), Database));
        builder.UseSetting("Demo:Enabled", "false");
        builder.UseSetting("Sync:SchedulerEnabled", "false");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (embedded)
        {
            Directory.Delete(Path.Combine(Path.GetTempPath(), Database), recursive: true);
            return;
        }
        await using var admin = new NpgsqlConnection(_server);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Database}\" WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}
