using System.Diagnostics;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Security;
using Aggregator.Web.Upstream.Sync;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Aggregator.Benchmarks;

/// <summary>
/// Model sync against the mock upstream on real PostgreSQL and on the embedded SQLite default: first sync and
/// unchanged re-sync times, and how many model rows the re-sync wrote (PostgreSQL's row versions; on SQLite,
/// rows whose UpdatedAt moved). <c>--store postgres|sqlite</c> runs one of them, <c>--counts 378,10000</c> chooses the sizes.
/// Targets (2 cores): 378 first ≤ 1 s, unchanged re-sync ≤ 300 ms with 0 writes; 10,000 first ≤ 10 s; 20,000 (the cap) first ≤ 20 s.
/// </summary>
public static class SyncBenchmark
{
    public static async Task RunAsync(string[] args)
    {
        var store = args.SkipWhile(a => a != "--store").Skip(1).FirstOrDefault();
        int[] counts = args.SkipWhile(a => a != "--counts").Skip(1).FirstOrDefault() is { } list
            ? [.. list.Split(',').Select(int.Parse)]
            : [378, 10_000, 20_000];
        if (store is null or "postgres") await RunAsync(embedded: false, counts);
        if (store is null or "sqlite") await RunAsync(embedded: true, counts);
    }

    static async Task RunAsync(bool embedded, int[] counts)
    {
        await using var app = new BenchApp(embedded);
        _ = app.Services; // start the app, apply migrations
        // Warm up (JIT, EF query compilation, connection pool) as a running server would be.
        await using (var warm = await MockUpstreamServer.StartAsync(o => o.ModelCount = 50))
        {
            var warmId = await AddProviderAsync(app, warm.OpenRouterUrl);
            await TimeAsync(app, warmId);
            await TimeAsync(app, warmId);
        }
        Console.WriteLine();
        Console.WriteLine(embedded ? "Embedded SQLite (WAL, batches of 500 rows):" : "PostgreSQL (batches of 500 rows):");
        Console.WriteLine("Times are end to end; in brackets the part spent fetching and parsing the mock's list.");
        Console.WriteLine("| models | first sync | unchanged re-sync (median of 5) | rows written by re-sync |");
        Console.WriteLine("|---:|---:|---:|---:|");
        foreach (var count in counts)
        {
            await using var mock = await MockUpstreamServer.StartAsync(o => o.ModelCount = count);
            var providerId = await AddProviderAsync(app, mock.OpenRouterUrl);
            var first = await TimeAsync(app, providerId);
            var before = await VersionsAsync(app, providerId);
            var resyncs = new List<(double Total, long Fetch)>();
            for (var i = 0; i < 5; i++) resyncs.Add(await TimeAsync(app, providerId));
            var after = await VersionsAsync(app, providerId);
            var written = before.Count(kv => !after.TryGetValue(kv.Key, out var v) || v != kv.Value) + after.Count - before.Count;
            resyncs.Sort();
            Console.WriteLine($"| {count:N0} | {first.Total:N0} ms ({first.Fetch:N0}) | {resyncs[2].Total:N0} ms ({resyncs[2].Fetch:N0}) | {written} |");
        }
    }

    static async Task<(double Total, long Fetch)> TimeAsync(BenchApp app, int providerId)
    {
        using var scope = app.Services.CreateScope();
        var sync = scope.ServiceProvider.GetRequiredService<ModelSync>();
        var watch = Stopwatch.StartNew();
        var result = await sync.SyncAsync(providerId, "bench", CancellationToken.None);
        watch.Stop();
        if (result.Outcome != SyncOutcome.Succeeded) throw new InvalidOperationException(result.Message);
        return (watch.Elapsed.TotalMilliseconds, result.FetchMs);
    }

    static async Task<int> AddProviderAsync(BenchApp app, string baseUrl)
    {
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var box = scope.ServiceProvider.GetRequiredService<SecretBox>();
        var secret = "sk-bench-" + Guid.NewGuid().ToString("N");
        var provider = new Provider { Name = "bench" + Guid.NewGuid().ToString("N")[..8], DisplayName = "Bench", BaseUrl = baseUrl, ListShape = ModelListShape.OpenRouter };
        db.ApiKeys.Add(new ApiKey
        {
            Provider = provider, Name = "bench", EncryptedSecret = box.Encrypt(secret),
            SecretFingerprint = box.Fingerprint(secret), MaskedHint = SecretBox.Mask(secret),
        });
        await db.SaveChangesAsync();
        return provider.Id;
    }

    static async Task<Dictionary<long, string>> VersionsAsync(BenchApp app, int providerId)
    {
        if (app.Embedded)
        {
            using var scope = app.Services.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            return await db.Models.Where(m => m.ProviderId == providerId)
                .ToDictionaryAsync(m => m.Id, m => m.UpdatedAt.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT "Id", xmin::text FROM "Models" WHERE "ProviderId" = @p""", connection);
        command.Parameters.AddWithValue("p", providerId);
        var versions = new Dictionary<long, string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) versions[reader.GetInt64(0)] = reader.GetString(1);
        return versions;
    }
}
