using System.Globalization;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Aggregator.Web.Features.Attachments;
using Aggregator.Web.Features.Catalog;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// The chat screen: "/" for a new chat, "/{id}" for a conversation (another user's id is a 404).
/// A reply still streaming is rendered with its live text and sequence number, and the script
/// resumes it from there over the hub.
/// </summary>
[Authorize]
public sealed class IndexModel(
    Conversations conversations,
    GenerationManager generations,
    CatalogCache catalog,
    MarkdownRenderer markdown,
    QuestionAttachments attachments,
    IOptions<ChatOptions> options) : PageModel
{
    public ConversationPage Sidebar { get; private set; } = new([], null);
    public Conversation? Conversation { get; private set; }
    public IReadOnlyList<MessageView> Messages { get; private set; } = [];
    /// <summary>A compare's replies side by side, when the branch ends at one nobody has kept yet; they replace the last reply.</summary>
    public IReadOnlyList<MessageView>? CompareColumns { get; private set; }
    public CatalogModel? SelectedModel { get; private set; }
    /// <summary>Files on the shown questions, by message id.</summary>
    public ILookup<long, AttachmentView> Attachments { get; private set; } = Enumerable.Empty<AttachmentView>().ToLookup(a => 0L);
    public int MaxMessageChars => options.Value.MaxMessageChars;
    ConversationTree tree = new([]);

    /// <summary>The `‹ 2 / 3 ›` control under a message (shown only when it has versions).</summary>
    public VersionControls VersionsOf(MessageView m) => new(m.Id, tree.Versions(m.Id));

    public IReadOnlyList<FolderView> Folders { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(Guid? id, [FromServices] ConversationPlaces places, CancellationToken ct)
    {
        var userId = User.GetUserId()!;
        if (id is { } conversationId)
        {
            Conversation = await conversations.FindAsync(userId, conversationId, ct);
            if (Conversation is null) return NotFound();
            var branch = await conversations.BranchAsync(Conversation, ct);
            tree = branch.Tree;
            Messages = branch.Messages.Select(m => View(m, userId, branch.Tree)).ToList();
            if (await conversations.UndecidedCompareAsync(Conversation, branch, ct) is { } columns)
            {
                CompareColumns = columns.Select(m => View(m, userId, branch.Tree)).ToList();
                Messages = Messages.Take(Messages.Count - 1).ToList();
            }
            Attachments = await attachments.ViewsAsync(Conversation.Id, ct);
            if (Conversation.ModelId is { } modelId)
                SelectedModel = (await catalog.GetAsync(User.GetTier(), ct)).Find(modelId);
        }
        Sidebar = await conversations.ListAsync(userId, null, null, options.Value.SidebarPageSize, ct);
        Folders = await places.FoldersAsync(userId, ct);
        return Page();
    }

    MessageView View(Message m, string userId, ConversationTree tree)
    {
        var content = m.Content;
        var seq = m.Seq;
        var live = false;
        if (m.Status == MessageStatus.Streaming && generations.Find(m.Id, userId) is { } generation)
        {
            (content, _, seq) = generation.Snapshot();
            live = true;
        }
        // A finished reply was rendered once when it finished; only a live or older one is rendered here.
        var html = m.Role != MessageRole.Assistant ? "" : !live && m.Html is not null ? m.Html : markdown.Render(content);
        var stats = new MessageStats(m.ModelName, m.PromptTokens, m.CompletionTokens, m.TokensEstimated, m.TimeToFirstTokenMs, m.DurationMs, m.FinishReason);
        var versions = tree.Versions(m.Id);
        return new MessageView(m.Id, m.Role, StatusNames.Of(m.Status), content, html, seq, content.Length, live, stats, m.Error,
            versions.Count == 0 ? 1 : IndexOf(versions, m.Id) + 1, Math.Max(1, versions.Count));
    }

    /// <summary>
    /// How a reply ended, when it did not simply complete; same words as stateLabel in wwwroot-src/chat/messages.ts,
    /// so a reload shows what the live page showed. A reply stopped before its first token says so instead of
    /// showing an empty block.
    /// </summary>
    public static string? StateLabel(string status, string text) => status switch
    {
        "stopped" => text.Length == 0 ? "Stopped before any reply" : "Stopped",
        "interrupted" => "Interrupted",
        "failed" => "Failed",
        _ => null,
    };

    public static string Meta(MessageStats s)
    {
        var parts = new List<string>();
        if (!string.IsNullOrEmpty(s.ModelName)) parts.Add(s.ModelName);
        if (s.CompletionTokens is { } completion)
            parts.Add($"{(s.TokensEstimated ? "~" : "")}{completion.ToString(CultureInfo.InvariantCulture)} tokens");
        if (s.TimeToFirstTokenMs is { } ttft)
            parts.Add("TTFT " + (ttft / 1000.0).ToString("0.00", CultureInfo.InvariantCulture) + " s");
        if (s.CompletionTokens is { } tokens && s.DurationMs is { } duration)
        {
            var streaming = (duration - (s.TimeToFirstTokenMs ?? 0)) / 1000.0;
            if (streaming > 0 && tokens > 0) parts.Add((tokens / streaming).ToString("0.0", CultureInfo.InvariantCulture) + " tok/s");
        }
        return string.Join(" · ", parts);
    }

    static int IndexOf(IReadOnlyList<long> list, long id)
    {
        for (var i = 0; i < list.Count; i++) if (list[i] == id) return i;
        return 0;
    }
}

/// <summary>A reply as <c>_Reply.cshtml</c> draws it: the message and its ‹ › control (none in a compare column).</summary>
public sealed record ReplyView(MessageView Message, VersionControls Versions);

/// <param name="Version">This message's place among its versions (1-based); <paramref name="Versions"/> how many there are.</param>
public sealed record MessageView(long Id, MessageRole Role, string Status, string Text, string Html, int Seq, int Length, bool Live,
    MessageStats Stats, string? Error, int Version = 1, int Versions = 1);

/// <summary>What the sidebar shows on load: the first page (pinned first), the user's folders, and which conversation is open.</summary>
public sealed record SidebarView(ConversationPage Page, IReadOnlyList<FolderView> Folders, Guid? Current);
