using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Attachments;

/// <summary>
/// Removes files nobody can reach any more: uploads never sent with a question (after
/// <see cref="AttachmentOptions.OrphanHours"/>) and the files of conversations deleted longer ago than
/// the undo allows (<see cref="AttachmentOptions.PurgeAfterMinutes"/>). Bytes go first, then rows, so a
/// failure leaves a row the next sweep finds again, never bytes nothing points to. Every node sweeps; deletes are idempotent.
/// </summary>
public sealed partial class AttachmentJanitor(IServiceScopeFactory scopes, IAttachmentStore store, IOptions<AttachmentOptions> options,
    TimeProvider clock, ILogger<AttachmentJanitor> log) : BackgroundService
{
    const int Batch = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.SweepIntervalSeconds), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(clock.GetUtcNow().UtcDateTime, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSweepFailed(log, ex);
            }
        }
    }

    /// <summary>One sweep as of <paramref name="now"/>; returns how many attachments were removed.</summary>
    public async Task<int> SweepAsync(DateTime now, CancellationToken ct)
    {
        var orphanedBefore = now.AddHours(-options.Value.OrphanHours);
        var deletedBefore = now.AddMinutes(-options.Value.PurgeAfterMinutes);
        var removed = 0;
        while (true)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var due = await db.Attachments
                .Where(a => (a.MessageId == null && a.CreatedAt < orphanedBefore)
                    || (a.ConversationId != null && db.Conversations.Any(c => c.Id == a.ConversationId && c.DeletedAt < deletedBefore)))
                .OrderBy(a => a.CreatedAt).Take(Batch).ToListAsync(ct);
            if (due.Count == 0) break;
            await DeleteBytesAsync(store, due, ct);
            db.Attachments.RemoveRange(due);
            await db.SaveChangesAsync(ct);
            removed += due.Count;
            if (due.Count < Batch) break;
        }
        if (removed > 0) LogSwept(log, removed);
        return removed;
    }

    public static async Task DeleteBytesAsync(IAttachmentStore store, IEnumerable<Attachment> attachments, CancellationToken ct)
    {
        foreach (var key in attachments.SelectMany(a => new[] { a.StorageKey, a.ThumbnailKey }).OfType<string>().Distinct())
            await store.DeleteAsync(key, ct);
    }

    [LoggerMessage(LogLevel.Information, "Removed {Count} attachment(s) of deleted conversations or never sent")]
    static partial void LogSwept(ILogger log, int count);

    [LoggerMessage(LogLevel.Warning, "Attachment sweep failed; the next one retries")]
    static partial void LogSweepFailed(ILogger log, Exception ex);
}
