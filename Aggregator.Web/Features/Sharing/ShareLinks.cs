using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Chat;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Sharing;

/// <summary>
/// Share links: a frozen copy of the shown branch (text and the HTML the chat rendered), reachable by
/// a random secret in the URL. Only the secret's SHA-256 is stored, so neither a copy of the database
/// nor the list of one's shares opens a link. A link dies when revoked or when its conversation is deleted.
/// </summary>
public sealed class ShareLinks(AppDbContext db, Conversations conversations, MarkdownRenderer markdown)
{
    public const string PathPrefix = "/s/";
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <returns>The secret of the new link (put it in the URL; it is never stored), or null when the conversation is not the user's.</returns>
    public async Task<string?> CreateAsync(string userId, Guid conversationId, bool includeAttachments, CancellationToken ct)
    {
        var conversation = await conversations.FindAsync(userId, conversationId, ct);
        if (conversation is null) return null;
        var branch = await conversations.BranchAsync(conversation, ct);
        var ids = branch.Messages.Select(m => m.Id).ToList();
        var files = includeAttachments
            ? (await db.Attachments.AsNoTracking().Where(a => a.UserId == userId && a.MessageId != null && ids.Contains(a.MessageId.Value))
                .OrderBy(a => a.CreatedAt).Select(a => new { MessageId = a.MessageId!.Value, a.FileName }).ToListAsync(ct))
                .ToLookup(a => a.MessageId, a => a.FileName)
            : null;
        var snapshot = new ShareSnapshot(branch.Messages
            .Where(m => m.Status != MessageStatus.Streaming || m.Content.Length > 0)
            .Select(m => new SharedMessage(
                m.Role == MessageRole.User ? "user" : m.Role == MessageRole.Assistant ? "assistant" : m.Role.ToString().ToLowerInvariant(),
                m.Content,
                m.Role == MessageRole.Assistant ? m.Html ?? markdown.Render(m.Content) : null,
                m.ModelName, m.CreatedAt, files?[m.Id].ToList() is { Count: > 0 } names ? names : null))
            .ToList());
        var secret = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        db.ShareLinks.Add(new ShareLink
        {
            Id = Guid.CreateVersion7(), UserId = userId, ConversationId = conversation.Id, TokenHash = Hash(secret), Title = conversation.Title,
            Snapshot = JsonSerializer.Serialize(snapshot, Json), IncludeAttachments = includeAttachments,
        });
        await db.SaveChangesAsync(ct);
        return secret;
    }

    /// <summary>The snapshot behind a link; null when the link is unknown, revoked, or its conversation deleted.</summary>
    public async Task<SharedPage?> OpenAsync(string secret, CancellationToken ct)
    {
        if (secret.Length is < 20 or > 100) return null;
        var hash = Hash(secret);
        var link = await db.ShareLinks.AsNoTracking()
            .Where(s => s.TokenHash == hash && s.RevokedAt == null
                        && db.Conversations.Any(c => c.Id == s.ConversationId && c.DeletedAt == null))
            .Select(s => new { s.Title, s.Snapshot, s.CreatedAt, s.IncludeAttachments })
            .FirstOrDefaultAsync(ct);
        if (link is null) return null;
        var snapshot = JsonSerializer.Deserialize<ShareSnapshot>(link.Snapshot, Json) ?? new ShareSnapshot([]);
        return new SharedPage(link.Title, link.CreatedAt, link.IncludeAttachments, snapshot.Messages);
    }

    /// <summary>The user's links, newest first (live ones and revoked ones).</summary>
    public Task<List<ShareRow>> ListAsync(string userId, CancellationToken ct) =>
        db.ShareLinks.AsNoTracking().Where(s => s.UserId == userId).OrderByDescending(s => s.CreatedAt)
            .Select(s => new ShareRow(s.Id, s.ConversationId, s.Title, s.CreatedAt, s.RevokedAt, s.IncludeAttachments,
                db.Conversations.Any(c => c.Id == s.ConversationId && c.DeletedAt == null)))
            .ToListAsync(ct);

    /// <returns>False when the link is not the user's.</returns>
    public async Task<bool> RevokeAsync(string userId, Guid id, CancellationToken ct)
    {
        var link = await db.ShareLinks.FirstOrDefaultAsync(s => s.Id == id && s.UserId == userId, ct);
        if (link is null) return false;
        link.RevokedAt ??= DateTime.UtcNow;
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>Lowercase hex SHA-256: a 256-bit random secret needs no salt or slow hash.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}

public sealed record ShareSnapshot(IReadOnlyList<SharedMessage> Messages);

/// <param name="Html">The reply as the chat rendered it (Markdig, raw HTML escaped); null for a question, shown as text.</param>
/// <param name="Attachments">File names only, when the link was made with attachments.</param>
public sealed record SharedMessage(string Role, string Content, string? Html, string? ModelName, DateTime CreatedAt, IReadOnlyList<string>? Attachments);

public sealed record SharedPage(string Title, DateTime CreatedAt, bool IncludeAttachments, IReadOnlyList<SharedMessage> Messages);

/// <param name="Live">False once the conversation was deleted (the link then opens nothing).</param>
public sealed record ShareRow(Guid Id, Guid ConversationId, string Title, DateTime CreatedAt, DateTime? RevokedAt, bool IncludeAttachments, bool Live);
