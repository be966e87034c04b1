using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Attachments;

/// <summary>
/// Production's store: <see cref="StoredFile"/> rows in PostgreSQL, so every node sees every file and a
/// database backup holds them. A context of its own per call: the bytes never ride in the caller's unit of work.
/// </summary>
public sealed class DatabaseAttachmentStore(IDbContextFactory<AppDbContext> contexts) : IAttachmentStore
{
    public async Task PutAsync(string key, byte[] data, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        db.StoredFiles.Add(new StoredFile { Key = StorageKeys.Checked(key), Data = data });
        await db.SaveChangesAsync(ct);
    }

    public async Task<Stream?> OpenAsync(string key, CancellationToken ct)
    {
        var checkedKey = StorageKeys.Checked(key);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var data = await db.StoredFiles.Where(f => f.Key == checkedKey).Select(f => f.Data).FirstOrDefaultAsync(ct);
        return data is null ? null : new MemoryStream(data, writable: false);
    }

    public async Task DeleteAsync(string key, CancellationToken ct)
    {
        var checkedKey = StorageKeys.Checked(key);
        await using var db = await contexts.CreateDbContextAsync(ct);
        await db.StoredFiles.Where(f => f.Key == checkedKey).ExecuteDeleteAsync(ct);
    }
}
