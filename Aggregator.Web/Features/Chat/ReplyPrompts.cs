using Aggregator.Web.Data;
using Aggregator.Web.Features.Attachments;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Usage;

namespace Aggregator.Web.Features.Chat;

/// <param name="Conversation">Tracked, as saved with the new reply.</param>
public sealed record ReplyContext(string UserId, Tier UserTier, Conversation Conversation, long QuestionId, long ReplyId,
    CatalogModel Model, QuotaTicket Quota);

/// <summary>
/// What the model is sent for one reply of the chat: the branch ending at the question, as turns.
/// The one place a chat reply's request is assembled, whichever hub call (send, edit, regenerate, compare) started it.
/// </summary>
public sealed class ReplyPrompts(Conversations conversations, AttachmentPrompts attachments)
{
    public async Task<ChatRequest> BuildAsync(ReplyContext reply, CancellationToken ct)
    {
        var history = await conversations.HistoryAsync(reply.Conversation.Id, reply.QuestionId, ct);
        history = await attachments.AddToAsync(reply.Conversation.Id, reply.QuestionId, history, reply.Model, ct);
        return new ChatRequest(reply.UserId, reply.UserTier, reply.Model.Id, history, MessageId: reply.ReplyId, Quota: reply.Quota);
    }
}
