using Aggregator.Web.Data;
using Aggregator.Web.Features.Attachments;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Usage;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Chat;

/// <param name="Conversation">Tracked, as saved with the new reply.</param>
public sealed record ReplyContext(string UserId, Tier UserTier, Conversation Conversation, long QuestionId, long ReplyId,
    CatalogModel Model, QuotaTicket Quota);

/// <summary>
/// What the model is sent for one reply of the chat: the branch ending at the question, as turns, with the
/// conversation's system prompt (or the user's custom instructions) and its parameters as the model takes them.
/// The one place a chat reply's request is assembled, whichever hub call (send, edit, regenerate, compare) started it.
/// </summary>
public sealed class ReplyPrompts(Conversations conversations, AppDbContext db, AttachmentPrompts attachments)
{
    public async Task<ChatRequest> BuildAsync(ReplyContext reply, CancellationToken ct)
    {
        var history = await conversations.HistoryAsync(reply.Conversation.Id, reply.QuestionId, ct);
        history = await attachments.AddToAsync(reply.Conversation.Id, reply.QuestionId, history, reply.Model, ct);
        var settings = ChatSettings.Of(reply.Conversation).For(reply.Model);
        return new ChatRequest(reply.UserId, reply.UserTier, reply.Model.Id, history, MessageId: reply.ReplyId, Quota: reply.Quota,
            MaxTokens: settings.MaxOutputTokens, Temperature: settings.Temperature)
        {
            System = await SystemPromptAsync(reply.UserId, reply.Conversation, ct),
            TopP = settings.TopP,
            ReasoningEffort = settings.ReasoningEffort,
        };
    }

    /// <summary>The conversation's own system prompt; without one, the user's custom instructions; null when neither is set.</summary>
    public async Task<string?> SystemPromptAsync(string userId, Conversation? conversation, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(conversation?.SystemPrompt)) return conversation.SystemPrompt;
        var instructions = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => u.CustomInstructions).FirstOrDefaultAsync(ct);
        return string.IsNullOrWhiteSpace(instructions) ? null : instructions;
    }
}
