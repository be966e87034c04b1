namespace Aggregator.Web.Data;

// What the chat keeps beside conversations and messages: folders, presets, attachments, share links.

public sealed class Folder
{
    public Guid Id { get; set; }
    public required string UserId { get; set; }
    public required string Name { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
}

/// <summary>A named model + system prompt + parameters the user picks from the model selector.</summary>
public sealed class ChatPreset
{
    public long Id { get; set; }
    public required string UserId { get; set; }
    public required string Name { get; set; }
    public long? ModelId { get; set; }
    public string? SystemPrompt { get; set; }
    public double? Temperature { get; set; }
    public double? TopP { get; set; }
    public int? MaxOutputTokens { get; set; }
    public string? ReasoningEffort { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
}

public enum AttachmentKind { Image = 0, Text = 1, Pdf = 2 }

/// <summary>
/// A file the user attached. The bytes live in the attachment store under <see cref="StorageKey"/>
/// (a folder in the embedded default, <see cref="StoredFile"/> rows in production); only the owner
/// reaches it. Uploaded before the question is sent (MessageId null until then), deleted with the conversation.
/// </summary>
public sealed class Attachment
{
    public Guid Id { get; set; }
    public required string UserId { get; set; }
    public Guid? ConversationId { get; set; }
    public long? MessageId { get; set; }
    public required string FileName { get; set; }
    /// <summary>The media type found in the content (never the one the browser claimed).</summary>
    public required string ContentType { get; set; }
    public AttachmentKind Kind { get; set; }
    public long SizeBytes { get; set; }
    /// <summary>Text files and PDFs: the text added to the prompt.</summary>
    public string? Text { get; set; }
    public int? Width { get; set; }
    public int? Height { get; set; }
    public required string StorageKey { get; set; }
    public string? ThumbnailKey { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
}

/// <summary>Bytes of the PostgreSQL attachment store, one row per stored object.</summary>
public sealed class StoredFile
{
    public required string Key { get; set; }
    public required byte[] Data { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
}

/// <summary>
/// A read-only snapshot of a conversation's branch, reachable without login by a link. Only the
/// link's hash is stored, so a copy of the database opens no share.
/// </summary>
public sealed class ShareLink
{
    public Guid Id { get; set; }
    public required string UserId { get; set; }
    public Guid ConversationId { get; set; }
    /// <summary>SHA-256 of the link's secret, hex.</summary>
    public required string TokenHash { get; set; }
    public required string Title { get; set; }
    /// <summary>The shared messages as they were (JSON, with their rendered HTML).</summary>
    public required string Snapshot { get; set; }
    public bool IncludeAttachments { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
    public DateTime? RevokedAt { get; set; }
}
