using System.Collections.Concurrent;
using Aggregator.Web.Data;
using Npgsql;

namespace Aggregator.Web.Upstream.Sync;

/// <summary>
/// One sync per provider at a time: an in-process semaphore, plus a PostgreSQL session advisory lock
/// when running on PostgreSQL so several app nodes never write the same provider's models at once.
/// </summary>
public sealed class SyncLock(StorageOptions storage, IConfiguration configuration)
{
    const int LockNamespace = 0x53594e43; // "SYNC"
    readonly ConcurrentDictionary<int, SemaphoreSlim> _local = new();

    /// <returns>A handle to dispose when done, or null when another sync of the provider holds the lock.</returns>
    public async Task<IAsyncDisposable?> TryAcquireAsync(int providerId, CancellationToken ct)
    {
        var local = _local.GetOrAdd(providerId, _ => new SemaphoreSlim(1, 1));
        if (!await local.WaitAsync(0, ct)) return null;
        if (storage.IsEmbedded) return new Handle(local, null);

        var connection = new NpgsqlConnection(configuration.GetConnectionString("Postgres"));
        try
        {
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@ns, @id)", connection);
            command.Parameters.AddWithValue("ns", LockNamespace);
            command.Parameters.AddWithValue("id", providerId);
            if (await command.ExecuteScalarAsync(ct) is true) return new Handle(local, connection);
        }
        catch
        {
            local.Release();
            await connection.DisposeAsync();
            throw;
        }
        local.Release();
        await connection.DisposeAsync();
        return null;
    }

    sealed class Handle(SemaphoreSlim local, NpgsqlConnection? connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            // Closing the session releases the advisory lock.
            if (connection is not null) await connection.DisposeAsync();
            local.Release();
        }
    }
}
