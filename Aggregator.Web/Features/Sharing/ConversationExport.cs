using System.Globalization;
using System.Text;
using System.Text.Json;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Chat;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Sharing;

/// <summary>
/// Writes a conversation out as it is read: Markdown of the shown branch, or JSON of the whole tree.
/// Rows stream from the database to the response a few hundred at a time, so a conversation of
/// 10,000 messages costs the memory of a few hundred (never a list of all of them, never one string).
/// </summary>
public sealed class ConversationExport(AppDbContext db, Conversations conversations)
{
    const int FlushEvery = 200;
    internal const string Format = "aggregator.conversation";

    internal static readonly JsonWriterOptions JsonOptions = new() { Indented = true };

    /// <summary>The shown branch, readable: title, who said what, with model names and times.</summary>
    public async Task WriteMarkdownAsync(Conversation conversation, Stream body, CancellationToken ct)
    {
        await using var text = new StreamWriter(body, new UTF8Encoding(false), bufferSize: 16 * 1024, leaveOpen: true);
        await text.WriteAsync($"# {conversation.Title}\n\n");
        await text.WriteAsync($"_Exported from Aggregator on {When(DateTime.UtcNow)}. Conversation started {When(conversation.CreatedAt)}._\n");
        var tree = await conversations.TreeAsync(conversation.Id, ct);
        var path = tree.PathTo(tree.CurrentLeaf(conversation.CurrentLeafId));
        foreach (var chunk in path.Chunk(FlushEvery))
        {
            var rows = await db.Messages.AsNoTracking()
                .Where(m => m.ConversationId == conversation.Id && chunk.Contains(m.Id))
                .Select(m => new { m.Id, m.Role, m.Content, m.ModelName, m.Status, m.CreatedAt })
                .ToDictionaryAsync(m => m.Id, ct);
            foreach (var id in chunk)
            {
                if (!rows.TryGetValue(id, out var m)) continue;
                var who = m.Role switch
                {
                    MessageRole.User => "You",
                    MessageRole.Assistant => m.ModelName is { Length: > 0 } model ? $"Assistant ({model})" : "Assistant",
                    var role => role.ToString(),
                };
                var state = m.Status is MessageStatus.Complete or MessageStatus.Streaming ? "" : $" · {StatusNames.Of(m.Status)}";
                await text.WriteAsync($"\n## {who} · {When(m.CreatedAt)}{state}\n\n");
                await text.WriteAsync(m.Content);
                await text.WriteAsync('\n');
            }
            await text.FlushAsync(ct);
        }
    }

    /// <summary>The whole tree, every version of every message, with the conversation's settings.</summary>
    public async Task WriteJsonAsync(Conversation conversation, Stream body, CancellationToken ct)
    {
        await using var json = new Utf8JsonWriter(body, JsonOptions);
        json.WriteStartObject();
        json.WriteString("format", Format);
        json.WriteNumber("version", 1);
        json.WriteString("exportedAt", DateTime.UtcNow);
        json.WritePropertyName("conversation");
        var folder = conversation.FolderId is { } folderId
            ? await db.Folders.AsNoTracking().Where(f => f.Id == folderId).Select(f => f.Name).FirstOrDefaultAsync(ct)
            : null;
        await WriteConversationAsync(json, conversation, folder, ct);
        json.WriteEndObject();
        await json.FlushAsync(ct);
    }

    /// <summary>One conversation object with its messages (also the unit of the account archive).</summary>
    internal async Task WriteConversationAsync(Utf8JsonWriter json, Conversation c, string? folder, CancellationToken ct)
    {
        json.WriteStartObject();
        json.WriteString("id", c.Id);
        json.WriteString("title", c.Title);
        WriteNullable(json, "createdAt", c.CreatedAt);
        WriteNullable(json, "updatedAt", c.UpdatedAt);
        WriteNullable(json, "modelId", c.ModelId);
        WriteNullable(json, "currentLeafId", c.CurrentLeafId);
        json.WriteStartObject("settings");
        json.WriteString("systemPrompt", c.SystemPrompt);
        WriteNullable(json, "temperature", c.Temperature);
        WriteNullable(json, "topP", c.TopP);
        WriteNullable(json, "maxOutputTokens", c.MaxOutputTokens);
        json.WriteString("reasoningEffort", c.ReasoningEffort);
        json.WriteEndObject();
        WriteNullable(json, "pinnedAt", c.PinnedAt);
        WriteNullable(json, "archivedAt", c.ArchivedAt);
        json.WriteString("folder", folder);
        json.WriteStartArray("messages");
        var written = 0;
        // Ids grow with time, so a parent is always written before its children.
        await foreach (var m in db.Messages.AsNoTracking().Where(m => m.ConversationId == c.Id).OrderBy(m => m.Id)
                           .Select(m => new
                           {
                               m.Id, m.ParentId, m.Role, m.Content, m.Reasoning, m.ModelName, m.Status, m.Error, m.Slot,
                               m.PromptTokens, m.CompletionTokens, m.CreatedAt, m.CompletedAt,
                           })
                           .AsAsyncEnumerable().WithCancellation(ct))
        {
            json.WriteStartObject();
            json.WriteNumber("id", m.Id);
            WriteNullable(json, "parentId", m.ParentId);
            json.WriteString("role", m.Role.ToString().ToLowerInvariant());
            json.WriteString("content", m.Content);
            if (m.Reasoning is not null) json.WriteString("reasoning", m.Reasoning);
            json.WriteString("model", m.ModelName);
            json.WriteString("status", StatusNames.Of(m.Status));
            if (m.Error is not null) json.WriteString("error", m.Error);
            if (m.Slot != 0) json.WriteNumber("slot", m.Slot);
            WriteNullable(json, "promptTokens", m.PromptTokens);
            WriteNullable(json, "completionTokens", m.CompletionTokens);
            WriteNullable(json, "createdAt", m.CreatedAt);
            WriteNullable(json, "completedAt", m.CompletedAt);
            json.WriteEndObject();
            if (++written % FlushEvery == 0) await json.FlushAsync(ct);
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    internal static void WriteNullable(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } v) json.WriteNumber(name, v); else json.WriteNull(name);
    }

    internal static void WriteNullable(Utf8JsonWriter json, string name, int? value)
    {
        if (value is { } v) json.WriteNumber(name, v); else json.WriteNull(name);
    }

    internal static void WriteNullable(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v) json.WriteNumber(name, v); else json.WriteNull(name);
    }

    internal static void WriteNullable(Utf8JsonWriter json, string name, DateTime? value)
    {
        if (value is { } v) json.WriteString(name, DateTime.SpecifyKind(v, DateTimeKind.Utc)); else json.WriteNull(name);
    }

    static string When(DateTime at) => at.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

    /// <summary>A file name from a title: letters, digits, spaces and dashes, never empty.</summary>
    public static string FileName(string title, string extension)
    {
        var safe = new string(title.Select(ch => char.IsLetterOrDigit(ch) || ch is ' ' or '-' or '_' ? ch : '-').ToArray()).Trim(' ', '-');
        if (safe.Length > 80) safe = safe[..80].TrimEnd(' ', '-');
        return (safe.Length == 0 ? "conversation" : safe) + "." + extension;
    }
}
