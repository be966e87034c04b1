using Aggregator.Web.Data;
using Aggregator.Web.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// Where a conversation sits in the sidebar: pinned on top, in one of the user's folders, or archived
/// out of the list. Every query filters on the owner, so another user's conversation or folder id finds nothing.
/// </summary>
public sealed class ConversationPlaces(AppDbContext db)
{
    public const int FolderNameMax = 100;
    public const int MaxFolders = 200;
    const int ArchivedShown = 500;

    IQueryable<Conversation> Owned(string userId) => db.Conversations.Where(c => c.UserId == userId && c.DeletedAt == null);

    public Task<ConversationSummary?> PinAsync(string userId, Guid id, bool pinned, CancellationToken ct) =>
        ChangeAsync(userId, id, c => c.PinnedAt = pinned ? c.PinnedAt ?? DateTime.UtcNow : null, ct);

    /// <summary>Archiving also unpins: an archived conversation is out of every list but "Archived".</summary>
    public Task<ConversationSummary?> ArchiveAsync(string userId, Guid id, bool archived, CancellationToken ct) =>
        ChangeAsync(userId, id, c =>
        {
            c.ArchivedAt = archived ? c.ArchivedAt ?? DateTime.UtcNow : null;
            if (archived) c.PinnedAt = null;
        }, ct);

    /// <returns>Null when the conversation, or the folder, is not the user's.</returns>
    public async Task<ConversationSummary?> MoveAsync(string userId, Guid id, Guid? folderId, CancellationToken ct)
    {
        if (folderId is { } f && !await db.Folders.AnyAsync(x => x.Id == f && x.UserId == userId, ct)) return null;
        return await ChangeAsync(userId, id, c => c.FolderId = folderId, ct);
    }

    public Task<List<ConversationSummary>> ArchivedAsync(string userId, CancellationToken ct) =>
        Owned(userId).Where(c => c.ArchivedAt != null).OrderByDescending(c => c.ArchivedAt).Take(ArchivedShown)
            .Select(c => new ConversationSummary(c.Id, c.Title, c.UpdatedAt, c.ModelId, c.PinnedAt != null, c.FolderId, true))
            .ToListAsync(ct);

    public Task<List<FolderView>> FoldersAsync(string userId, CancellationToken ct) =>
        db.Folders.AsNoTracking().Where(f => f.UserId == userId).OrderBy(f => f.Name).ThenBy(f => f.CreatedAt)
            .Select(f => new FolderView(f.Id, f.Name)).ToListAsync(ct);

    public async Task<FolderView> CreateFolderAsync(string userId, string name, CancellationToken ct)
    {
        if (await db.Folders.CountAsync(f => f.UserId == userId, ct) >= MaxFolders)
            throw new PlaceException($"You have {MaxFolders} folders already; delete one first.");
        var folder = new Folder { Id = Guid.CreateVersion7(), UserId = userId, Name = FolderName(name) };
        db.Folders.Add(folder);
        await db.SaveChangesAsync(ct);
        return new FolderView(folder.Id, folder.Name);
    }

    public async Task<FolderView?> RenameFolderAsync(string userId, Guid id, string name, CancellationToken ct)
    {
        var folder = await db.Folders.FirstOrDefaultAsync(f => f.Id == id && f.UserId == userId, ct);
        if (folder is null) return null;
        folder.Name = FolderName(name);
        await db.SaveChangesAsync(ct);
        return new FolderView(folder.Id, folder.Name);
    }

    /// <summary>The folder goes; its conversations stay, back in the main list.</summary>
    public async Task<bool> DeleteFolderAsync(string userId, Guid id, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.Conversations.Where(c => c.UserId == userId && c.FolderId == id).ExecuteUpdateAsync(s => s.SetProperty(c => c.FolderId, (Guid?)null), ct);
        var deleted = await db.Folders.Where(f => f.Id == id && f.UserId == userId).ExecuteDeleteAsync(ct) == 1;
        await transaction.CommitAsync(ct);
        return deleted;
    }

    async Task<ConversationSummary?> ChangeAsync(string userId, Guid id, Action<Conversation> change, CancellationToken ct)
    {
        var conversation = await Owned(userId).FirstOrDefaultAsync(c => c.Id == id, ct);
        if (conversation is null) return null;
        change(conversation);
        await db.SaveChangesAsync(ct);
        return Conversations.Summary(conversation);
    }

    static string FolderName(string? name)
    {
        var clean = string.Join(' ', DisplayText.Clean(name ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (clean.Length == 0) throw new PlaceException("A folder needs a name.");
        return clean.Length <= FolderNameMax ? clean : clean[..FolderNameMax];
    }
}

public sealed record FolderView(Guid Id, string Name);

/// <summary>A sidebar change refused with a message for the user.</summary>
public sealed class PlaceException(string message) : Exception(message);
