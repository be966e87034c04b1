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
            if (await command.ExecuteScalarAsync(ct) is true) return new Handle(local, connection, providerId);
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

    sealed class Handle(SemaphoreSlim local, NpgsqlConnection? connection, int providerId = 0) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                if (connection is not null)
                {
                    // Unlock explicitly: a pooled connection keeps its session (and the lock) after Dispose.
                    await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@ns, @id)", connection);
                    unlock.Parameters.AddWithValue("ns", LockNamespace);
                    unlock.Parameters.AddWithValue("id", providerId);
                    await unlock.ExecuteScalarAsync(CancellationToken.None);
                    await connection.DisposeAsync();
                }
            }
            finally
            {
                local.Release();
            }
        }
    }
}
