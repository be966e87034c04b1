using System.ComponentModel.DataAnnotations;
using Aggregator.Web.Data;

namespace Aggregator.Web.Features.Chat;

// Everything on the wire between ChatHub and the browser: records, camelCase JSON.

/// <summary>Server → client calls. Sent to every connection of the conversation's owner.</summary>
public interface IChatClient
{
    Task GenerationStarted(GenerationStartedEvent started);
    /// <summary>
    /// One push: the text that arrived during a coalescing window, in order. <see cref="TokenDelta.Seq"/> numbers
    /// the pushes (not tokens), from 1 per message, without gaps.
    /// </summary>
    Task Delta(TokenDelta delta);
    /// <summary>Throttled Markdig rendering of the first <see cref="RenderedSnapshot.Length"/> characters.</summary>
    Task Snapshot(RenderedSnapshot snapshot);
    Task GenerationCompleted(GenerationCompletedEvent completed);
    Task ConversationChanged(ConversationSummary conversation);
    /// <summary>The user's tier or role changed (on any node): the page reloads its catalogue and locks.</summary>
    Task AccountChanged(AccountChangedEvent account);
}

/// <param name="Tier">Lower-case tier name, as in the catalogue.</param>
public sealed record AccountChangedEvent(string Tier, bool IsAdmin);

/// <param name="Html">When a rendering was due: the Markdown of the whole reply up to and including this push, rendered (a
/// snapshot riding on the push, so a stream costs one backplane publish per push, not one more per snapshot).</param>
public sealed record TokenDelta(Guid ConversationId, long MessageId, int Seq, string Text, string? Html = null);

public sealed record RenderedSnapshot(Guid ConversationId, long MessageId, int Seq, int Length, string Html);

public sealed record GenerationStartedEvent(Guid ConversationId, long UserMessageId, long MessageId, string? ModelName);

public sealed record MessageStats(string? ModelName, int? PromptTokens, int? CompletionTokens, bool TokensEstimated,
    int? TimeToFirstTokenMs, int? DurationMs, string? FinishReason);

/// <param name="Content">The reply's Markdown source (what Copy copies); <paramref name="Html"/> is its rendering.</param>
public sealed record GenerationCompletedEvent(Guid ConversationId, long MessageId, string Status, int Seq, string Content, string Html,
    MessageStats Stats, string? Error);

/// <param name="Pinned">Shown on top of the sidebar; <paramref name="FolderId"/> the user's folder it is in; <paramref name="Archived"/> out of the list.</param>
public sealed record ConversationSummary(Guid Id, string Title, DateTime UpdatedAt, long? ModelId, bool Pinned = false, Guid? FolderId = null, bool Archived = false);

public sealed record ConversationPage(IReadOnlyList<ConversationSummary> Items, DateTime? NextBefore);

/// <param name="ParentId">The message the question follows (the last one the page shows); null: the end of the current branch.</param>
/// <param name="AttachmentIds">Files uploaded for this question (POST /api/attachments), in order.</param>
public sealed record SendRequest(Guid? ConversationId, long ModelId, string Text, long? ParentId = null, IReadOnlyList<Guid>? AttachmentIds = null)
{
    /// <summary>The conversation's settings from now on (a new chat's, chosen before its first question); null: unchanged.</summary>
    public ChatSettings? Settings { get; init; }
}

/// <param name="ModelIds">Two or three models; the first is the conversation's model afterwards.</param>
public sealed record CompareRequest(Guid? ConversationId, IReadOnlyList<long> ModelIds, string Text, long? ParentId = null)
{
    /// <summary>As <see cref="SendRequest.Settings"/>, checked against the first model.</summary>
    public ChatSettings? Settings { get; init; }
}

/// <param name="AssistantMessageIds">One reply per model, in the order asked (their slots).</param>
public sealed record CompareResult(Guid ConversationId, long UserMessageId, IReadOnlyList<long> AssistantMessageIds);

public sealed record SendResult(Guid ConversationId, long UserMessageId, long AssistantMessageId);

/// <summary>
/// Answer to a resume: the deltas after the client's sequence number while the generation is live
/// and still in the buffer; otherwise the full text so far (<see cref="Content"/>) or the final state.
/// </summary>
public sealed record ResumeResult(bool Live, IReadOnlyList<TokenDelta> Deltas, string? Content, int Seq, GenerationCompletedEvent? Completed);

public sealed class ChatOptions
{
    /// <summary>Longest user message accepted, in characters.</summary>
    [Range(1, 10_000_000)] public int MaxMessageChars { get; set; } = 100_000;
    /// <summary>Recent pushes kept per live generation for reconnecting clients (in memory on the owner, in its Redis stream for the others).</summary>
    [Range(16, 1_000_000)] public int ResumeBufferDeltas { get; set; } = 4096;
    [Range(50, 60_000)] public int PersistIntervalMs { get; set; } = 1000;
    [Range(20, 10_000)] public int SnapshotIntervalMs { get; set; } = 150;
    /// <summary>
    /// Deltas arriving within this window go out as one push (one SignalR send, one backplane publish, one
    /// Redis stream entry); 0 pushes as fast as the pusher can.
    /// </summary>
    [Range(0, 1000)] public int CoalesceMs { get; set; } = 40;
    /// <summary>How often each node looks for replies whose owner node is gone.</summary>
    [Range(200, 600_000)] public int SweepIntervalMs { get; set; } = 3000;
    [Range(5, 200)] public int SidebarPageSize { get; set; } = 30;
}

static class StatusNames
{
    public static string Of(MessageStatus status) => status.ToString().ToLowerInvariant();
}
