using Aggregator.Web.Data;
using Aggregator.Web.Infrastructure;
using Aggregator.Web.Upstream;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// A user's conversations. Every query filters on the owner inside its Where, so another user's
/// id (or a deleted conversation) simply finds nothing.
/// </summary>
public sealed class Conversations(AppDbContext db)
{
    public const string DefaultTitle = "New chat";
    const int TitleMax = 200;

    IQueryable<Conversation> Owned(string userId) =>
        db.Conversations.Where(c => c.UserId == userId && c.DeletedAt == null);

    public Task<Conversation?> FindAsync(string userId, Guid id, CancellationToken ct) =>
        Owned(userId).FirstOrDefaultAsync(c => c.Id == id, ct);

    /// <summary>
    /// Newest first, keyset-paged on UpdatedAt, archived ones left out; the pinned ones all come first on the
    /// first page. <paramref name="search"/> matches the title or any message row, on any branch.
    /// </summary>
    public async Task<ConversationPage> ListAsync(string userId, string? search, DateTime? before, int pageSize, CancellationToken ct)
    {
        var query = Owned(userId).Where(c => c.ArchivedAt == null);
        if (!string.IsNullOrWhiteSpace(search))
        {
            var term = search.Trim().ToLowerInvariant();
            query = query.Where(c => c.Title.ToLower().Contains(term) || c.Messages.Any(m => m.Content.ToLower().Contains(term)));
        }
        var pinned = before is null
            ? await query.Where(c => c.PinnedAt != null).OrderByDescending(c => c.PinnedAt).Take(PinnedMax).Select(SummaryOf).ToListAsync(ct)
            : [];
        var rest = query.Where(c => c.PinnedAt == null);
        if (before is { } b) rest = rest.Where(c => c.UpdatedAt < b);
        var items = await rest.OrderByDescending(c => c.UpdatedAt)
            .Take(pageSize + 1)
            .Select(SummaryOf)
            .ToListAsync(ct);
        var next = items.Count > pageSize ? items[pageSize - 1].UpdatedAt : (DateTime?)null;
        return new ConversationPage([.. pinned, .. items.Take(pageSize)], next);
    }

    const int PinnedMax = 200;
    static readonly System.Linq.Expressions.Expression<Func<Conversation, ConversationSummary>> SummaryOf =
        c => new ConversationSummary(c.Id, c.Title, c.UpdatedAt, c.ModelId, c.PinnedAt != null, c.FolderId, c.ArchivedAt != null);

    /// <summary>A new conversation, added to the unit of work; saved with the caller's next save (the first question and its reply).</summary>
    public Conversation Create(string userId, long? modelId) =>
        db.Conversations.Add(new Conversation { Id = Guid.CreateVersion7(), UserId = userId, Title = DefaultTitle, ModelId = modelId }).Entity;

    public async Task<ConversationSummary?> RenameAsync(string userId, Guid id, string title, CancellationToken ct)
    {
        var conversation = await FindAsync(userId, id, ct);
        if (conversation is null) return null;
        conversation.Title = Clip(title, TitleMax);
        conversation.TitleIsAutomatic = false;
        await db.SaveChangesAsync(ct);
        return Summary(conversation);
    }

    /// <summary>Soft delete, so the sidebar can offer an undo.</summary>
    public async Task<bool> DeleteAsync(string userId, Guid id, CancellationToken ct) =>
        await Owned(userId).Where(c => c.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.DeletedAt, DateTime.UtcNow), ct) == 1;

    public async Task<ConversationSummary?> RestoreAsync(string userId, Guid id, CancellationToken ct)
    {
        var conversation = await db.Conversations.FirstOrDefaultAsync(c => c.UserId == userId && c.Id == id && c.DeletedAt != null, ct);
        if (conversation is null) return null;
        conversation.DeletedAt = null;
        await db.SaveChangesAsync(ct);
        return Summary(conversation);
    }

    public async Task<bool> SetModelAsync(string userId, Guid id, long modelId, CancellationToken ct) =>
        await Owned(userId).Where(c => c.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.ModelId, modelId), ct) == 1;

    /// <summary>Every message's id and parent: the shape of the conversation, for choosing a branch (owner checked by the caller).</summary>
    public async Task<ConversationTree> TreeAsync(Guid conversationId, CancellationToken ct) =>
        new((await db.Messages.AsNoTracking().Where(m => m.ConversationId == conversationId)
            .Select(m => new { m.Id, m.ParentId }).ToListAsync(ct)).Select(m => (m.Id, m.ParentId)));

    /// <summary>The branch shown for <paramref name="conversation"/>: its messages root first, with the tree they came from.</summary>
    public async Task<Branch> BranchAsync(Conversation conversation, CancellationToken ct)
    {
        var tree = await TreeAsync(conversation.Id, ct);
        var path = tree.PathTo(tree.CurrentLeaf(conversation.CurrentLeafId));
        return new Branch(tree, await MessagesOnAsync(conversation.Id, path, ct));
    }

    /// <summary>
    /// The columns of a compare nobody has chosen from yet: when the branch ends at a compare reply and no version was
    /// picked, every reply of that compare in slot order; otherwise null (the branch is shown as usual).
    /// </summary>
    public async Task<IReadOnlyList<Message>?> UndecidedCompareAsync(Conversation conversation, Branch branch, CancellationToken ct)
    {
        if (conversation.CurrentLeafId is not null || branch.Messages is not [.., { Role: MessageRole.Assistant, CompareGroup: { } group } last]) return null;
        var columns = await db.Messages.AsNoTracking()
            .Where(m => m.ConversationId == conversation.Id && m.ParentId == last.ParentId && m.CompareGroup == group)
            .OrderBy(m => m.Slot).ToListAsync(ct);
        return columns.Count > 1 ? columns : null;
    }

    /// <summary>The messages with these ids, in the order given (a path).</summary>
    async Task<IReadOnlyList<Message>> MessagesOnAsync(Guid conversationId, IReadOnlyList<long> path, CancellationToken ct)
    {
        if (path.Count == 0) return [];
        var rows = await db.Messages.AsNoTracking().Where(m => m.ConversationId == conversationId && path.Contains(m.Id)).ToDictionaryAsync(m => m.Id, ct);
        return path.Where(rows.ContainsKey).Select(id => rows[id]).ToList();
    }

    /// <summary>The turns sent to the model: the branch ending at <paramref name="upToMessageId"/>, failed replies left out.</summary>
    public async Task<IReadOnlyList<ChatTurn>> HistoryAsync(Guid conversationId, long upToMessageId, CancellationToken ct)
    {
        var tree = await TreeAsync(conversationId, ct);
        var messages = await MessagesOnAsync(conversationId, tree.PathTo(upToMessageId), ct);
        return messages.Where(m => m.Content != "" && (m.Role != MessageRole.Assistant || m.Status != MessageStatus.Failed))
            .Select(m => new ChatTurn(m.Role, m.Content)).ToList();
    }

    public static ConversationSummary Summary(Conversation c) => new(c.Id, c.Title, c.UpdatedAt, c.ModelId, c.PinnedAt != null, c.FolderId, c.ArchivedAt != null);

    /// <summary>The automatic title: the first line of the first question, cut at a word boundary.</summary>
    public static string TitleFrom(string firstQuestion)
    {
        var line = DisplayText.Clean(firstQuestion.Trim().Split('\n', 2)[0]).Trim();
        line = string.Join(' ', line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (line.Length <= 60) return line.Length == 0 ? DefaultTitle : line;
        var cut = line.LastIndexOf(' ', 60);
        return line[..(cut > 20 ? cut : 60)] + "…";
    }

    static string Clip(string text, int max)
    {
        var t = DisplayText.Clean(text).Trim();
        if (t.Length == 0) t = DefaultTitle;
        return t.Length <= max ? t : t[..max];
    }
}

/// <summary>The messages of the shown branch (root first) and the conversation's whole shape (versions of each).</summary>
public sealed record Branch(ConversationTree Tree, IReadOnlyList<Message> Messages);
