using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Attachments;

/// <summary>
/// The hub's side of attachments: which uploads a question may carry (the caller's own, not sent yet,
/// within the tier's count, images only for a model that sees them), checked before anything is written,
/// then linked to the question in the hub's own unit of work, so they are saved with it or not at all.
/// </summary>
public sealed class QuestionAttachments(AppDbContext db, IOptions<AttachmentOptions> options)
{
    /// <summary>The uploads named by <paramref name="ids"/>, tracked; refuses (HubException) any that cannot go with this question.</summary>
    public async Task<IReadOnlyList<Attachment>> PendingAsync(string userId, Tier tier, IReadOnlyList<Guid>? ids, CatalogModel model, CancellationToken ct)
    {
        if (ids is null || ids.Count == 0) return [];
        var distinct = ids.Distinct().ToList();
        var max = options.Value.For(tier).MaxFiles;
        if (distinct.Count > max)
            throw new HubException($"A message can carry at most {max} files on the {tier.ToString().ToLowerInvariant()} tier; this one has {distinct.Count}. Remove some.");
        var found = await db.Attachments.Where(a => distinct.Contains(a.Id) && a.UserId == userId && a.MessageId == null).ToListAsync(ct);
        if (found.Count != distinct.Count)
            throw new HubException("An attached file is no longer available (removed, or already sent). Remove it and attach it again.");
        EnsureModelSees(found, model);
        // In the order the user attached them.
        return distinct.Select(id => found.Single(a => a.Id == id)).ToList();
    }

    /// <summary>The files of a question, for carrying them over to its edited version.</summary>
    public async Task<IReadOnlyList<Attachment>> OfQuestionAsync(Guid conversationId, long messageId, CatalogModel model, CancellationToken ct)
    {
        var files = await db.Attachments.AsNoTracking().Where(a => a.ConversationId == conversationId && a.MessageId == messageId)
            .OrderBy(a => a.CreatedAt).ThenBy(a => a.Id).ToListAsync(ct);
        EnsureModelSees(files, model);
        return files;
    }

    /// <summary>
    /// Links the uploads to the question, which is added but not saved: its key is still the temporary one
    /// EF gave it, and EF writes the real one into these rows in the same save.
    /// </summary>
    public void Link(IReadOnlyList<Attachment> pending, Conversation conversation, Message question)
    {
        if (pending.Count == 0) return;
        var questionId = db.Entry(question).Property(m => m.Id).CurrentValue;
        foreach (var attachment in pending)
        {
            attachment.ConversationId = conversation.Id;
            attachment.MessageId = questionId;
        }
    }

    /// <summary>An edited question keeps its files: new rows for the new version, over the same stored bytes.</summary>
    public void CarryOver(IReadOnlyList<Attachment> files, Conversation conversation, Message question)
    {
        var copies = files.Select(a => new Attachment
        {
            Id = Guid.CreateVersion7(), UserId = a.UserId, FileName = a.FileName, ContentType = a.ContentType, Kind = a.Kind,
            SizeBytes = a.SizeBytes, Text = a.Text, Width = a.Width, Height = a.Height, StorageKey = a.StorageKey, ThumbnailKey = a.ThumbnailKey,
            CreatedAt = a.CreatedAt,
        }).ToList();
        db.Attachments.AddRange(copies);
        Link(copies, conversation, question);
    }

    /// <summary>The files on the questions of a conversation (owner checked by the caller), by question, for the page.</summary>
    public async Task<ILookup<long, AttachmentView>> ViewsAsync(Guid conversationId, CancellationToken ct) =>
        (await db.Attachments.AsNoTracking().Where(a => a.ConversationId == conversationId && a.MessageId != null)
            .OrderBy(a => a.CreatedAt).ThenBy(a => a.Id).ToListAsync(ct))
        .ToLookup(a => a.MessageId!.Value, AttachmentView.Of);

    static void EnsureModelSees(IEnumerable<Attachment> files, CatalogModel model)
    {
        if (model.Capabilities.HasFlag(ModelCapabilities.Vision)) return;
        var image = files.FirstOrDefault(a => a.Kind == AttachmentKind.Image);
        if (image is not null)
            throw new HubException($"{model.Name} cannot see images ({image.FileName}). Pick a model with vision, or remove the image.");
    }
}
