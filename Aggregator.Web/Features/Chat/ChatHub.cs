using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Aggregator.Web.Features.Attachments;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Usage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// The chat's only entry point for changes. Holds no state (a hub instance lives for one call):
/// conversations are in the database, generations in <see cref="GenerationManager"/>. Every call
/// checks ownership through <see cref="Conversations"/>, whose queries filter on the caller.
/// </summary>
[Authorize]
public sealed class ChatHub(
    Conversations conversations,
    AppDbContext db,
    GenerationManager generations,
    CatalogCache catalog,
    MarkdownRenderer markdown,
    ReplyPrompts prompts,
    ITierQuotas quotas,
    QuestionAttachments attachments,
    IOptions<ChatOptions> options) : Hub<IChatClient>
{
    const string NotFound = "This conversation does not exist or was deleted.";
    const string Busy = "A reply is still being written in this conversation. Stop it (or wait for it to finish), then try again.";

    string UserId => Context.User?.GetUserId() ?? throw new HubException("Not signed in.");
    Tier UserTier => Context.CurrentTier(); // as the database has it now, not as the cookie had it
    CancellationToken Aborted => Context.ConnectionAborted;
    // A change that reached the server runs to completion even if the caller goes away (a reload
    // right after "rename", a send cut in half leaving a question without its reply).
    static CancellationToken Completes => CancellationToken.None;

    public Task<ConversationPage> ListConversations(string? search, DateTime? before) =>
        conversations.ListAsync(UserId, search, before, options.Value.SidebarPageSize, Aborted);

    public async Task<SendResult> Send(SendRequest request)
    {
        ValidateText(request.Text);
        var model = await AllowedModelAsync(request.ModelId);
        var existing = request.ConversationId is { } id
            ? await conversations.FindAsync(UserId, id, Completes) ?? throw new HubException(NotFound)
            : null;
        long? parentId = null;
        if (existing is not null)
        {
            await EnsureIdleAsync(existing.Id);
            // Under the message the page shows last (another tab may have switched versions since), else the current branch's end.
            var tree = await conversations.TreeAsync(existing.Id, Completes);
            if (request.ParentId is { } parent && !tree.Contains(parent)) throw new HubException("That message is not in this conversation.");
            parentId = tree.IsEmpty ? null : request.ParentId ?? tree.CurrentLeaf(existing.CurrentLeafId);
        }
        var attached = await attachments.PendingAsync(UserId, UserTier, request.AttachmentIds, model, Completes);

        return await WithinQuotaAsync(async quota =>
        {
            var conversation = existing ?? conversations.Create(UserId, model.Id);
            conversation.ModelId = model.Id;
            conversation.UpdatedAt = DateTime.UtcNow;
            var question = new Message { ConversationId = conversation.Id, ParentId = parentId, Role = MessageRole.User, Content = request.Text, Status = MessageStatus.Complete };
            db.Messages.Add(question); // saved with the reply, so a refused reply leaves no question behind
            attachments.Link(attached, conversation, question);
            return await StartReplyAsync(conversation, question, model, quota);
        });
    }

    /// <summary>
    /// Answers the current branch's last question again: a new version of its reply beside the old one
    /// (also the "retry" after a failure). Nothing is deleted.
    /// </summary>
    public async Task<SendResult> Regenerate(Guid conversationId, long modelId)
    {
        var conversation = await conversations.FindAsync(UserId, conversationId, Completes) ?? throw new HubException(NotFound);
        await EnsureIdleAsync(conversation.Id);
        var model = await AllowedModelAsync(modelId);
        var branch = await conversations.BranchAsync(conversation, Completes);
        var lastQuestion = branch.Messages.LastOrDefault(m => m.Role == MessageRole.User)
            ?? throw new HubException("There is no question to answer again.");
        var question = await db.Messages.FirstAsync(m => m.Id == lastQuestion.Id, Completes);
        return await WithinQuotaAsync(async quota =>
        {
            conversation.ModelId = model.Id;
            conversation.UpdatedAt = DateTime.UtcNow;
            return await StartReplyAsync(conversation, question, model, quota);
        });
    }

    /// <summary>Edit-and-resend: the changed question becomes a new version beside the original, with a new reply. Nothing is deleted.</summary>
    public async Task<SendResult> Edit(Guid conversationId, long messageId, string text, long modelId)
    {
        ValidateText(text);
        var conversation = await conversations.FindAsync(UserId, conversationId, Completes) ?? throw new HubException(NotFound);
        await EnsureIdleAsync(conversation.Id);
        var model = await AllowedModelAsync(modelId);
        var original = await db.Messages.AsNoTracking().FirstOrDefaultAsync(m => m.Id == messageId && m.ConversationId == conversation.Id && m.Role == MessageRole.User, Completes)
            ?? throw new HubException("That message is not a question in this conversation.");
        var files = await attachments.OfQuestionAsync(conversation.Id, original.Id, model, Completes);
        var result = await WithinQuotaAsync(async quota =>
        {
            var question = new Message { ConversationId = conversation.Id, ParentId = original.ParentId, Role = MessageRole.User, Content = text, Status = MessageStatus.Complete };
            db.Messages.Add(question);
            attachments.CarryOver(files, conversation, question); // the new version keeps the original's files
            // An automatic title was made from the first question: it follows that question's edit.
            var retitle = conversation.TitleIsAutomatic && original.ParentId is null;
            if (retitle) conversation.Title = Conversations.TitleFrom(text);
            conversation.ModelId = model.Id;
            conversation.UpdatedAt = DateTime.UtcNow;
            return (Sent: await StartReplyAsync(conversation, question, model, quota), Retitled: retitle);
        });
        if (result.Retitled) await Clients.User(UserId).ConversationChanged(Conversations.Summary(conversation));
        return result.Sent;
    }

    /// <summary>Stops the conversation's running reply on whichever node writes it; false when none is running.</summary>
    public Task<bool> Stop(Guid conversationId) => generations.StopAsync(conversationId, UserId, Completes);

    /// <summary>Catch up on a reply after a reload or reconnect: deltas after <paramref name="afterSeq"/>, or its final state.</summary>
    public async Task<ResumeResult> Resume(long messageId, int afterSeq)
    {
        if (generations.Find(messageId, UserId) is { } live) return live.Resume(afterSeq);
        var message = await db.Messages.AsNoTracking()
            .FirstOrDefaultAsync(m => m.Id == messageId && m.Conversation!.UserId == UserId && m.Conversation.DeletedAt == null, Completes)
            ?? throw new HubException("This message does not exist.");
        // Still being written on another node: from the stream copy there. Finished: hand over the final state.
        if (message.Status == MessageStatus.Streaming) return await generations.ResumeElsewhereAsync(message, afterSeq, Completes);
        return new ResumeResult(false, [], message.Content, message.Seq, Completed(message, markdown));
    }

    public async Task<ConversationSummary> Rename(Guid conversationId, string title)
    {
        if (string.IsNullOrWhiteSpace(title)) throw new HubException("A title cannot be empty.");
        var summary = await conversations.RenameAsync(UserId, conversationId, title, Completes) ?? throw new HubException(NotFound);
        await Clients.User(UserId).ConversationChanged(summary);
        return summary;
    }

    public async Task Delete(Guid conversationId)
    {
        if (!await conversations.DeleteAsync(UserId, conversationId, Completes)) throw new HubException(NotFound);
        await generations.StopAsync(conversationId, UserId, Completes);
    }

    public async Task<ConversationSummary> Restore(Guid conversationId) =>
        await conversations.RestoreAsync(UserId, conversationId, Completes) ?? throw new HubException(NotFound);

    public async Task SetModel(Guid conversationId, long modelId)
    {
        var model = await AllowedModelAsync(modelId);
        if (!await conversations.SetModelAsync(UserId, conversationId, model.Id, Completes)) throw new HubException(NotFound);
    }

    /// <summary>
    /// Takes one message from the user's quota before anything is written, so an over-quota user gets
    /// a clear error and no orphan question; the ticket goes to the router with the generation, and is
    /// given back when the write fails before the generation started.
    /// </summary>
    async Task<T> WithinQuotaAsync<T>(Func<QuotaTicket, Task<T>> write)
    {
        QuotaTicket quota;
        try
        {
            quota = await quotas.AcquireAsync(UserId, UserTier, Completes);
        }
        catch (RouterException ex) when (ex.Error == RouterError.QuotaExceeded)
        {
            throw new HubException(ex.Message);
        }
        try
        {
            return await write(quota);
        }
        catch
        {
            quota.Refund();
            throw;
        }
    }

    async Task<SendResult> StartReplyAsync(Conversation conversation, Message question, CatalogModel model, QuotaTicket quota)
    {
        var reply = new Message
        {
            ConversationId = conversation.Id, Parent = question, Role = MessageRole.Assistant, Status = MessageStatus.Streaming,
            ModelId = model.Id, ModelName = model.ModelId, OwnerNode = generations.Node.Id,
        };
        db.Messages.Add(reply);
        conversation.CurrentLeafId = null; // the new reply is the newest message: the branch shown ends there
        try
        {
            await db.SaveChangesAsync(Completes);
        }
        catch (DbUpdateException ex) when (OneStreamingReply.IsViolatedBy(ex))
        {
            // Another node started a reply in this conversation a moment ago; this save wrote nothing.
            throw new HubException(Busy);
        }

        var questionId = question.Id;
        var request = await prompts.BuildAsync(new ReplyContext(UserId, UserTier, conversation, questionId, reply.Id, model, quota), Completes);
        generations.Start(new GenerationStart(UserId, conversation.Id, questionId, reply.Id, model.ModelId, request));
        return new SendResult(conversation.Id, questionId, reply.Id);
    }

    void ValidateText(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new HubException("The message is empty. Type something first.");
        var max = options.Value.MaxMessageChars;
        if (text.Length > max)
            throw new HubException($"The message is {text.Length:N0} characters long; the limit is {max:N0}. Shorten it or send it in parts.");
    }

    /// <summary>Refuses early, before anything is truncated; the database's one-streaming-reply index settles a race.</summary>
    async Task EnsureIdleAsync(Guid conversationId)
    {
        if (await generations.IsStreamingAsync(conversationId, Completes)) throw new HubException(Busy);
    }

    async Task<CatalogModel> AllowedModelAsync(long modelId)
    {
        var view = await catalog.GetAsync(UserTier, Completes);
        var model = view.Find(modelId) ?? throw new HubException("This model is not available. Pick another one.");
        if (view.IsLocked(model))
            throw new HubException($"{model.Name} needs the {model.TierRequired.ToString().ToLowerInvariant()} tier; you are on {UserTier.ToString().ToLowerInvariant()}.");
        return model;
    }

    internal static GenerationCompletedEvent Completed(Message m, MarkdownRenderer markdown) =>
        new(m.ConversationId, m.Id, StatusNames.Of(m.Status), m.Seq, m.Content, m.Html ?? markdown.Render(m.Content),
            new MessageStats(m.ModelName, m.PromptTokens, m.CompletionTokens, m.TokensEstimated, m.TimeToFirstTokenMs, m.DurationMs, m.FinishReason),
            m.Error);
}
