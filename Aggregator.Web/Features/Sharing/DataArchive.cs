using System.Text.Json;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Sharing;

/// <summary>
/// Everything a user has here, as one JSON document written while it is read: the profile (no
/// password hash, security stamp or other secret), folders, presets, API token metadata (never a
/// hash), share links (never a token) and every conversation with all of its messages.
/// </summary>
public sealed class DataArchive(AppDbContext db, ConversationExport export)
{
    internal const string Format = "aggregator.archive";

    public async Task WriteAsync(string userId, Stream body, CancellationToken ct)
    {
        await using var json = new Utf8JsonWriter(body, ConversationExport.JsonOptions);
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new { u.Id, u.Email, u.UserName, u.Tier, u.CreatedAt, u.CustomInstructions }).SingleAsync(ct);
        json.WriteStartObject();
        json.WriteString("format", Format);
        json.WriteNumber("version", 1);
        json.WriteString("exportedAt", DateTime.UtcNow);

        json.WriteStartObject("profile");
        json.WriteString("id", user.Id);
        json.WriteString("email", user.Email);
        json.WriteString("userName", user.UserName);
        json.WriteString("tier", user.Tier.ToString().ToLowerInvariant());
        ConversationExport.WriteNullable(json, "createdAt", user.CreatedAt);
        json.WriteString("customInstructions", user.CustomInstructions);
        json.WriteEndObject();

        var folders = await db.Folders.AsNoTracking().Where(f => f.UserId == userId).OrderBy(f => f.Name).ToListAsync(ct);
        json.WriteStartArray("folders");
        foreach (var f in folders)
        {
            json.WriteStartObject();
            json.WriteString("id", f.Id);
            json.WriteString("name", f.Name);
            ConversationExport.WriteNullable(json, "createdAt", f.CreatedAt);
            json.WriteEndObject();
        }
        json.WriteEndArray();

        json.WriteStartArray("presets");
        await foreach (var p in db.Presets.AsNoTracking().Where(p => p.UserId == userId).OrderBy(p => p.Id).AsAsyncEnumerable().WithCancellation(ct))
        {
            json.WriteStartObject();
            json.WriteString("name", p.Name);
            ConversationExport.WriteNullable(json, "modelId", p.ModelId);
            json.WriteString("systemPrompt", p.SystemPrompt);
            ConversationExport.WriteNullable(json, "temperature", p.Temperature);
            ConversationExport.WriteNullable(json, "topP", p.TopP);
            ConversationExport.WriteNullable(json, "maxOutputTokens", p.MaxOutputTokens);
            json.WriteString("reasoningEffort", p.ReasoningEffort);
            ConversationExport.WriteNullable(json, "createdAt", p.CreatedAt);
            json.WriteEndObject();
        }
        json.WriteEndArray();

        json.WriteStartArray("apiTokens");
        await foreach (var t in db.ApiTokens.AsNoTracking().Where(t => t.UserId == userId).OrderBy(t => t.Id)
                           .Select(t => new { t.Name, t.Prefix, t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt, t.AllowedModels, t.RequestsPerMinute, t.MonthlyBudgetUsd, t.MonthlyTokenBudget })
                           .AsAsyncEnumerable().WithCancellation(ct))
        {
            json.WriteStartObject();
            json.WriteString("name", t.Name);
            json.WriteString("prefix", t.Prefix);
            ConversationExport.WriteNullable(json, "createdAt", t.CreatedAt);
            ConversationExport.WriteNullable(json, "expiresAt", t.ExpiresAt);
            ConversationExport.WriteNullable(json, "revokedAt", t.RevokedAt);
            ConversationExport.WriteNullable(json, "lastUsedAt", t.LastUsedAt);
            json.WriteString("allowedModels", t.AllowedModels);
            ConversationExport.WriteNullable(json, "requestsPerMinute", t.RequestsPerMinute);
            if (t.MonthlyBudgetUsd is { } usd) json.WriteNumber("monthlyBudgetUsd", usd); else json.WriteNull("monthlyBudgetUsd");
            ConversationExport.WriteNullable(json, "monthlyTokenBudget", t.MonthlyTokenBudget);
            json.WriteEndObject();
        }
        json.WriteEndArray();

        json.WriteStartArray("shares");
        await foreach (var s in db.ShareLinks.AsNoTracking().Where(s => s.UserId == userId).OrderBy(s => s.CreatedAt)
                           .Select(s => new { s.ConversationId, s.Title, s.IncludeAttachments, s.CreatedAt, s.RevokedAt })
                           .AsAsyncEnumerable().WithCancellation(ct))
        {
            json.WriteStartObject();
            json.WriteString("conversationId", s.ConversationId);
            json.WriteString("title", s.Title);
            json.WriteBoolean("includeAttachments", s.IncludeAttachments);
            ConversationExport.WriteNullable(json, "createdAt", s.CreatedAt);
            ConversationExport.WriteNullable(json, "revokedAt", s.RevokedAt);
            json.WriteEndObject();
        }
        json.WriteEndArray();

        // The conversations' rows are small; their messages are streamed one conversation at a time.
        var conversations = await db.Conversations.AsNoTracking().Where(c => c.UserId == userId && c.DeletedAt == null)
            .OrderBy(c => c.CreatedAt).ToListAsync(ct);
        var folderNames = folders.ToDictionary(f => f.Id, f => f.Name);
        json.WriteStartArray("conversations");
        foreach (var c in conversations)
        {
            await export.WriteConversationAsync(json, c, c.FolderId is { } id ? folderNames.GetValueOrDefault(id) : null, ct);
            await json.FlushAsync(ct);
        }
        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(ct);
    }
}
