using System.Text;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Upstream;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Attachments;

/// <summary>
/// Puts the files of every question on the branch into the turns sent upstream: images as inline image
/// parts (both adapters translate them), text files and PDFs as text blocks headed by their file names.
/// </summary>
public sealed class AttachmentPrompts(AppDbContext db, Conversations conversations, IAttachmentStore store)
{
    /// <param name="history">The branch's turns as <see cref="Conversations.HistoryAsync"/> made them (questions with text, in path order).</param>
    public async Task<IReadOnlyList<ChatTurn>> AddToAsync(Guid conversationId, long questionId, IReadOnlyList<ChatTurn> history,
        CatalogModel model, CancellationToken ct)
    {
        var files = await db.Attachments.AsNoTracking().Where(a => a.ConversationId == conversationId && a.MessageId != null)
            .OrderBy(a => a.CreatedAt).ThenBy(a => a.Id).ToListAsync(ct);
        if (files.Count == 0) return history;

        // The k-th question turn is the k-th question with text on the path (HistoryAsync leaves out empty messages only).
        var path = (await conversations.TreeAsync(conversationId, ct)).PathTo(questionId);
        var questions = await db.Messages.AsNoTracking()
            .Where(m => m.ConversationId == conversationId && path.Contains(m.Id) && m.Role == MessageRole.User && m.Content != "")
            .Select(m => m.Id).ToListAsync(ct);
        var questionIds = path.Where(questions.Contains).ToList();
        var byQuestion = files.ToLookup(a => a.MessageId!.Value);
        var seesImages = model.Capabilities.HasFlag(ModelCapabilities.Vision);

        var turns = new List<ChatTurn>(history.Count);
        var k = 0;
        foreach (var turn in history)
        {
            if (turn.Role != MessageRole.User || k >= questionIds.Count) { turns.Add(turn); continue; }
            var attached = byQuestion[questionIds[k++]].ToList();
            turns.Add(attached.Count == 0 ? turn : await WithFilesAsync(turn, attached, seesImages, ct));
        }
        return turns;
    }

    /// <summary>
    /// Images first (as the providers advise), then the question, then each file's text. An image on an earlier
    /// question, for a model without vision (a new one is refused before sending), becomes a note.
    /// </summary>
    async Task<ChatTurn> WithFilesAsync(ChatTurn turn, IReadOnlyList<Attachment> files, bool seesImages, CancellationToken ct)
    {
        var parts = new List<ContentPart>();
        foreach (var image in files.Where(a => a.Kind == AttachmentKind.Image))
        {
            if (!seesImages) continue;
            await using var stream = await store.OpenAsync(image.StorageKey, ct);
            if (stream is null) continue; // purged under a running request: the text still goes
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, ct);
            parts.Add(new ImagePart(null, image.ContentType, Convert.ToBase64String(copy.GetBuffer(), 0, (int)copy.Length)));
        }
        var text = new StringBuilder(turn.Content);
        foreach (var file in files)
        {
            if (file.Kind == AttachmentKind.Image)
            {
                if (!seesImages) text.Append("\n\n[Image ").Append(file.FileName).Append(" not shown: this model does not see images]");
                continue;
            }
            text.Append("\n\n").Append(TextBlock(file.FileName, file.Text ?? ""));
        }
        var content = text.ToString();
        parts.Add(new TextPart(content));
        return turn with { Content = content, Parts = parts.Count > 1 ? parts : null };
    }

    /// <summary>"File: name" and the text fenced, with a fence longer than any run of backticks inside it.</summary>
    public static string TextBlock(string fileName, string text)
    {
        var longest = 0;
        var run = 0;
        foreach (var c in text)
        {
            run = c == '`' ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }
        var fence = new string('`', Math.Max(3, longest + 1));
        return $"File: {fileName}\n{fence}\n{text.TrimEnd('\n')}\n{fence}";
    }
}
