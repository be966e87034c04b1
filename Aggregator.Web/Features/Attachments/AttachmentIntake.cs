using Aggregator.Web.Data;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Attachments;

/// <summary>One uploaded file as it arrived: the browser's name, its length and its bytes (its claimed type is ignored).</summary>
public sealed record Upload(string FileName, long Length, Func<CancellationToken, Task<byte[]>> ReadAsync);

/// <summary>
/// Takes a batch of uploads: every file is checked against the tier's limits and read first, so a refused
/// batch stores nothing; then bytes go to the store and the rows to the database (bytes removed again if that fails).
/// </summary>
public sealed partial class AttachmentIntake(AppDbContext db, IAttachmentStore store, AttachmentReader reader,
    IOptions<AttachmentOptions> options, ILogger<AttachmentIntake> log)
{
    public async Task<IReadOnlyList<Attachment>> AcceptAsync(string userId, Tier tier, IReadOnlyList<Upload> uploads, CancellationToken ct)
    {
        var limits = options.Value.For(tier);
        var tierName = tier.ToString().ToLowerInvariant();
        if (uploads.Count == 0) throw new AttachmentRefusedException("No file was sent. Pick, paste or drop a file.");
        if (uploads.Count > limits.MaxFiles)
            throw new AttachmentRefusedException($"{uploads.Count} files at once is too many: a message can carry at most {limits.MaxFiles} on the {tierName} tier. Nothing was attached.");
        foreach (var upload in uploads)
            if (upload.Length > limits.MaxFileBytes)
                throw new AttachmentRefusedException(
                    $"{upload.FileName} is {FileContent.Size(upload.Length)}; files can be up to {limits.MaxFileMegabytes} MB on the {tierName} tier. Nothing was attached.",
                    StatusCodes.Status413PayloadTooLarge);

        var read = new List<ReadFile>();
        foreach (var upload in uploads) read.Add(reader.Read(upload.FileName, await upload.ReadAsync(ct)));

        var rows = new List<Attachment>();
        var stored = new List<string>();
        try
        {
            foreach (var file in read)
            {
                var id = Guid.CreateVersion7();
                var row = new Attachment
                {
                    Id = id, UserId = userId, FileName = file.FileName, ContentType = file.Type.ContentType, Kind = file.Type.Kind,
                    SizeBytes = file.Data.Length, Text = file.Text, Width = file.Width, Height = file.Height,
                    StorageKey = StorageKeys.Original(id), ThumbnailKey = file.Thumbnail is null ? null : StorageKeys.Thumbnail(id),
                };
                await store.PutAsync(row.StorageKey, file.Data, ct);
                stored.Add(row.StorageKey);
                if (row.ThumbnailKey is { } thumbnailKey)
                {
                    await store.PutAsync(thumbnailKey, file.Thumbnail!, ct);
                    stored.Add(thumbnailKey);
                }
                rows.Add(row);
            }
            db.Attachments.AddRange(rows);
            await db.SaveChangesAsync(ct);
        }
        catch
        {
            foreach (var key in stored) await store.DeleteAsync(key, CancellationToken.None);
            throw;
        }
        LogAccepted(log, rows.Count, userId);
        return rows;
    }

    [LoggerMessage(LogLevel.Information, "Accepted {Count} attachment(s) from {UserId}")]
    static partial void LogAccepted(ILogger log, int count, string userId);
}
