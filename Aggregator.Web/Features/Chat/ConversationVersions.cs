using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// Which branch of a conversation is shown. A version switch is the only writer of
/// <see cref="Conversation.CurrentLeafId"/>; a new message clears it, so the newest message is shown again.
/// </summary>
public sealed class ConversationVersions(AppDbContext db, Conversations conversations)
{
    /// <summary>
    /// Shows the branch through <paramref name="messageId"/>, down to the newest message under it. Written only while
    /// no reply streams (in the same statement), so a reply that started a moment ago stays on the branch shown.
    /// </summary>
    public async Task<(SwitchOutcome Outcome, VersionSwitch? Shown)> SwitchAsync(Conversation conversation, long messageId, CancellationToken ct)
    {
        var tree = await conversations.TreeAsync(conversation.Id, ct);
        if (!tree.Contains(messageId)) return (SwitchOutcome.NotInConversation, null);
        var leaf = tree.NewestUnder(messageId);
        var written = await db.Conversations
            .Where(c => c.Id == conversation.Id && c.UserId == conversation.UserId && c.DeletedAt == null)
            .Where(c => !db.Messages.Any(m => m.ConversationId == c.Id && m.Status == MessageStatus.Streaming))
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.CurrentLeafId, leaf), ct);
        return written == 1 ? (SwitchOutcome.Switched, new VersionSwitch(leaf, tree.PathTo(leaf))) : (SwitchOutcome.Busy, null);
    }
}

/// <summary>The branch shown after a version switch: its last message and every message on it, root first.</summary>
/// <remarks>The page re-renders from the switched message down (Index.cshtml is the one rendering of a message).</remarks>
public sealed record VersionSwitch(long LeafId, IReadOnlyList<long> Branch);

public enum SwitchOutcome { Switched, NotInConversation, Busy }

/// <summary>The `‹ 2 / 3 ›` control of a message: its versions (itself and its siblings, oldest first).</summary>
public sealed record VersionControls(long MessageId, IReadOnlyList<long> Versions)
{
    public int Index { get; } = Math.Max(0, Versions.ToList().IndexOf(MessageId));
    public bool Shown => Versions.Count > 1;
    public long? Previous => Index > 0 ? Versions[Index - 1] : null;
    public long? Next => Index < Versions.Count - 1 ? Versions[Index + 1] : null;
}
