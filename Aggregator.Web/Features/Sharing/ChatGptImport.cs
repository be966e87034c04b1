using System.Text.Json;
using System.Text.Json.Serialization;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Chat;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Sharing;

/// <summary>
/// Imports ChatGPT's <c>conversations.json</c>: an array of conversations whose <c>mapping</c> is a
/// tree of nodes (id → message, parent, children) and whose <c>current_node</c> is the leaf shown.
/// Read conversation by conversation from the stream (never the whole file as a string); every
/// conversation goes in, in one transaction, or none does.
/// </summary>
public sealed class ChatGptImport(AppDbContext db)
{
    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    /// <returns>How many conversations and messages were imported.</returns>
    public async Task<ImportResult> ImportAsync(string userId, Stream file, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var conversations = 0;
        var messages = 0;
        try
        {
            await foreach (var exported in JsonSerializer.DeserializeAsyncEnumerable<ExportedConversation>(file, Json, ct))
            {
                conversations++;
                if (exported is null) throw new ImportException($"Conversation {conversations} is null, not a conversation object.");
                messages += await AddAsync(userId, exported, conversations, ct);
                db.ChangeTracker.Clear(); // saved: keep memory to one conversation at a time
            }
        }
        catch (JsonException ex)
        {
            throw new ImportException(Describe(ex, conversations));
        }
        if (conversations == 0) throw new ImportException("The file holds no conversations (an empty array).");
        await transaction.CommitAsync(ct);
        return new ImportResult(conversations, messages);
    }

    async Task<int> AddAsync(string userId, ExportedConversation exported, int number, CancellationToken ct)
    {
        var title = Conversations.TitleFrom(string.IsNullOrWhiteSpace(exported.Title) ? Conversations.DefaultTitle : exported.Title);
        var where = $"Conversation {number} (“{title}”)";
        if (exported.Mapping is not { Count: > 0 } mapping)
            throw new ImportException($"{where} has no “mapping” of messages; this does not look like ChatGPT's conversations.json.");
        foreach (var (id, node) in mapping)
            if (node?.Parent is { } parent && !mapping.ContainsKey(parent))
                throw new ImportException($"{where}: message “{id}” names a parent “{parent}” that is not in the mapping.");

        var created = Time(exported.CreateTime) ?? DateTime.UtcNow;
        var conversation = new Conversation
        {
            Id = Guid.CreateVersion7(), UserId = userId, Title = title, TitleIsAutomatic = false,
            CreatedAt = created, UpdatedAt = Time(exported.UpdateTime) ?? created,
        };
        db.Conversations.Add(conversation);

        // Walk the tree from its roots, parents before children. Nodes without a text message (ChatGPT's empty root,
        // system and tool messages, hidden context) are left out; their children hang on the nearest kept ancestor.
        var kept = new Dictionary<string, Message?>();
        var children = mapping.Where(n => n.Value?.Parent is not null).ToLookup(n => n.Value!.Parent!, n => n.Key);
        var queue = new Queue<string>(mapping.Where(n => n.Value?.Parent is null).Select(n => n.Key));
        var count = 0;
        while (queue.TryDequeue(out var id))
        {
            var node = mapping[id];
            var above = node?.Parent is { } parent ? kept[parent] : null;
            kept[id] = MessageFrom(node?.Message, conversation, above) ?? above;
            if (kept[id] != above) count++;
            foreach (var child in children[id]) queue.Enqueue(child);
        }
        if (kept.Count != mapping.Count)
            throw new ImportException($"{where}: some messages are not reachable from a first message (the mapping has a cycle).");
        if (count == 0) throw new ImportException($"{where} has no message with text.");

        await db.SaveChangesAsync(ct);
        var leaf = exported.CurrentNode is { } current && kept.GetValueOrDefault(current) is { } shown ? shown : null;
        if (leaf is not null)
        {
            conversation.CurrentLeafId = leaf.Id;
            await db.SaveChangesAsync(ct);
        }
        return count;
    }

    Message? MessageFrom(ExportedMessage? m, Conversation conversation, Message? parent)
    {
        var role = m?.Author?.Role switch { "user" => MessageRole.User, "assistant" => MessageRole.Assistant, _ => (MessageRole?)null };
        if (m is null || role is null) return null;
        var text = TextOf(m.Content);
        if (string.IsNullOrWhiteSpace(text)) return null;
        var at = Time(m.CreateTime) ?? conversation.CreatedAt;
        var message = new Message
        {
            ConversationId = conversation.Id, Parent = parent, Role = role.Value, Content = text, Status = MessageStatus.Complete,
            ModelName = role == MessageRole.Assistant ? Clip(m.Metadata?.ModelSlug, 256) : null, CreatedAt = at, CompletedAt = at,
        };
        db.Messages.Add(message);
        return message;
    }

    /// <summary>The text parts of a message (images and other attachments are not carried over).</summary>
    static string TextOf(ExportedContent? content)
    {
        if (content is null) return "";
        if (content.ContentType is not (null or "text" or "multimodal_text")) return "";
        if (content.Parts is { } parts)
            return string.Join("\n\n", parts.Where(p => p.ValueKind == JsonValueKind.String).Select(p => p.GetString()).Where(s => !string.IsNullOrEmpty(s)));
        return content.Text ?? "";
    }

    static DateTime? Time(double? unixSeconds) =>
        unixSeconds is { } s && s > 0 && s < 253402300799 ? DateTime.UnixEpoch.AddSeconds(s) : null;

    static string? Clip(string? text, int max) => text is null || text.Length <= max ? text : text[..max];

    static string Describe(JsonException ex, int conversationsRead)
    {
        var where = ex.LineNumber is { } line ? $" at line {line + 1}, position {(ex.BytePositionInLine ?? 0) + 1}" : "";
        var path = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "" : $" (in {ex.Path})";
        if (conversationsRead == 0 && ex.Path is null or "$")
            return $"The file is not ChatGPT's conversations.json: it must be a JSON array of conversations{where}.";
        return ex.InnerException is InvalidOperationException or FormatException || ex.Message.Contains("could not be converted")
            ? $"The file has a value of the wrong type{where}{path}: not the shape of ChatGPT's conversations.json."
            : $"The file is not valid JSON{where}{path}: it may be cut off or not a ChatGPT export.";
    }

    sealed record ExportedConversation(string? Title, double? CreateTime, double? UpdateTime, Dictionary<string, ExportedNode?>? Mapping, string? CurrentNode);
    sealed record ExportedNode(ExportedMessage? Message, string? Parent);
    sealed record ExportedMessage(ExportedAuthor? Author, ExportedContent? Content, double? CreateTime, ExportedMetadata? Metadata);
    sealed record ExportedAuthor(string? Role);
    sealed record ExportedContent(string? ContentType, List<JsonElement>? Parts, string? Text);
    sealed record ExportedMetadata(string? ModelSlug);
}

public sealed record ImportResult(int Conversations, int Messages);

/// <summary>An import refused with a message for the user; nothing of it was kept.</summary>
public sealed class ImportException(string message) : Exception(message);
