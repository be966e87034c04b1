using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Aggregator.Web.Features.Attachments;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Features.Sharing;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Usage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
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
public sealed partial class ChatHub(
    Conversations conversations,
    AppDbContext db,
    GenerationManager generations,
    CatalogCache catalog,
    MarkdownRenderer markdown,
    ReplyPrompts prompts,
    ContextBudget contextBudget,
    ChatPresets presets,
    ConversationVersions versions,
    ITierQuotas quotas,
    QuestionAttachments attachments,
    IOptions<ChatOptions> options) : Hub<IChatClient>
{
    const string NotFound = "This conversation does not exist or was deleted.";
    const int MaxCompared = 3;
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
        var settings = request.Settings is { } asked ? ValidSettings(asked, model) : null;
        var existing = request.ConversationId is { } id
            ? await conversations.FindAsync(UserId, id, Completes) ?? throw new HubException(NotFound)
            : null;
        var parentId = await ParentOfNextQuestionAsync(existing, request.ParentId);
        var attached = await attachments.PendingAsync(UserId, UserTier, request.AttachmentIds, model, Completes);

        return await WithinQuotaAsync(async quota =>
        {
            var conversation = existing ?? conversations.Create(UserId, model.Id);
            settings?.ApplyTo(conversation);
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
        return await AnswerAgainAsync(conversation, lastQuestion.Id, model);
    }

    /// <summary>Answers the question of any reply again: a new version beside that reply, which is kept.</summary>
    public async Task<SendResult> RegenerateReply(Guid conversationId, long replyId, long modelId)
    {
        var conversation = await conversations.FindAsync(UserId, conversationId, Completes) ?? throw new HubException(NotFound);
        await EnsureIdleAsync(conversation.Id);
        var model = await AllowedModelAsync(modelId);
        var reply = await db.Messages.Where(m => m.Id == replyId && m.ConversationId == conversation.Id && m.Role == MessageRole.Assistant)
            .Select(m => new { m.ParentId }).FirstOrDefaultAsync(Completes) ?? throw new HubException("That message is not a reply in this conversation.");
        return await AnswerAgainAsync(conversation, reply.ParentId ?? throw new HubException("There is no question to answer again."), model);
    }

    async Task<SendResult> AnswerAgainAsync(Conversation conversation, long questionId, CatalogModel model)
    {
        var question = await db.Messages.FirstAsync(m => m.Id == questionId, Completes);
        return await WithinQuotaAsync(async quota =>
        {
            conversation.ModelId = model.Id;
            conversation.UpdatedAt = DateTime.UtcNow;
            return await StartReplyAsync(conversation, question, model, quota);
        });
    }

    /// <summary>
    /// Shows another version of a message: the branch through it, down to the newest message under it (kept for the
    /// next visit). Refused while a reply streams, so the reply being written always stays on the branch shown.
    /// </summary>
    public async Task<VersionSwitch> SwitchVersion(Guid conversationId, long messageId)
    {
        var conversation = await conversations.FindAsync(UserId, conversationId, Completes) ?? throw new HubException(NotFound);
        await EnsureIdleAsync(conversation.Id);
        var (outcome, shown) = await versions.SwitchAsync(conversation, messageId, Completes);
        return outcome switch
        {
            SwitchOutcome.Switched => shown!,
            SwitchOutcome.Busy => throw new HubException(Busy),
            _ => throw new HubException("That message is not in this conversation."),
        };
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

    /// <summary>
    /// One question to two or three models at once: each reply streams in its own column (its own slot), each
    /// counted against the quota. The user then keeps one (<see cref="KeepAnswer"/>) to go on with it; the others
    /// stay as versions of that reply.
    /// </summary>
    public async Task<CompareResult> Compare(CompareRequest request)
    {
        ValidateText(request.Text);
        var ids = request.ModelIds ?? [];
        if (ids.Count is < 2 or > MaxCompared) throw new HubException($"Compare takes 2 or {MaxCompared} models; {ids.Count} were chosen.");
        if (ids.Distinct().Count() != ids.Count) throw new HubException("Pick different models to compare.");
        var models = new List<CatalogModel>(ids.Count);
        foreach (var id in ids) models.Add(await AllowedModelAsync(id));
        var settings = request.Settings is { } asked ? ValidSettings(asked, models[0]) : null;
        var existing = request.ConversationId is { } cid
            ? await conversations.FindAsync(UserId, cid, Completes) ?? throw new HubException(NotFound)
            : null;
        var parentId = await ParentOfNextQuestionAsync(existing, request.ParentId);

        var tickets = new List<QuotaTicket>(models.Count);
        try
        {
            foreach (var _ in models) tickets.Add(await AcquireQuotaAsync(models.Count));
            var conversation = existing ?? conversations.Create(UserId, models[0].Id);
            settings?.ApplyTo(conversation);
            conversation.ModelId = models[0].Id;
            conversation.UpdatedAt = DateTime.UtcNow;
            var question = new Message { ConversationId = conversation.Id, ParentId = parentId, Role = MessageRole.User, Content = request.Text, Status = MessageStatus.Complete };
            db.Messages.Add(question);
            var replies = await StartRepliesAsync(conversation, question, models.Zip(tickets).ToList(), Guid.CreateVersion7());
            return new CompareResult(conversation.Id, question.Id, replies);
        }
        catch
        {
            foreach (var ticket in tickets) ticket.Refund();
            throw;
        }
    }

    /// <summary>Keeps one answer of a compare (or any version of a reply): the conversation goes on from it.</summary>
    public async Task KeepAnswer(Guid conversationId, long messageId)
    {
        var conversation = await conversations.FindAsync(UserId, conversationId, Completes) ?? throw new HubException(NotFound);
        var isReply = await db.Messages.AnyAsync(m => m.Id == messageId && m.ConversationId == conversation.Id && m.Role == MessageRole.Assistant, Completes);
        if (!isReply) throw new HubException("That answer is not in this conversation.");
        conversation.CurrentLeafId = messageId;
        await db.SaveChangesAsync(Completes);
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

    // The sidebar's places (pin, archive, folders) and share links: services of their own, the owner checked in their queries.
    public Task<ConversationSummary> Pin(Guid conversationId, bool pinned, [FromServices] ConversationPlaces places) =>
        PlacedAsync(places.PinAsync(UserId, conversationId, pinned, Completes));

    public Task<ConversationSummary> Archive(Guid conversationId, bool archived, [FromServices] ConversationPlaces places) =>
        PlacedAsync(places.ArchiveAsync(UserId, conversationId, archived, Completes));

    public Task<ConversationSummary> MoveToFolder(Guid conversationId, Guid? folderId, [FromServices] ConversationPlaces places) =>
        PlacedAsync(places.MoveAsync(UserId, conversationId, folderId, Completes), "This conversation or folder does not exist.");

    public Task<List<ConversationSummary>> ListArchived([FromServices] ConversationPlaces places) => places.ArchivedAsync(UserId, Aborted);

    public Task<List<FolderView>> ListFolders([FromServices] ConversationPlaces places) => places.FoldersAsync(UserId, Aborted);

    public Task<FolderView> CreateFolder(string name, [FromServices] ConversationPlaces places) =>
        Refusing(places.CreateFolderAsync(UserId, name, Completes));

    public async Task<FolderView> RenameFolder(Guid folderId, string name, [FromServices] ConversationPlaces places) =>
        await Refusing(places.RenameFolderAsync(UserId, folderId, name, Completes)) ?? throw new HubException(NoFolder);

    public async Task DeleteFolder(Guid folderId, [FromServices] ConversationPlaces places)
    {
        if (!await places.DeleteFolderAsync(UserId, folderId, Completes)) throw new HubException(NoFolder);
    }

    /// <returns>The link's path (<c>/s/…</c>); its secret is in no row and no log.</returns>
    public async Task<string> CreateShare(Guid conversationId, bool includeAttachments, [FromServices] ShareLinks shares) =>
        ShareLinks.PathPrefix + (await shares.CreateAsync(UserId, conversationId, includeAttachments, Completes) ?? throw new HubException(NotFound));

    const string NoFolder = "This folder does not exist.";

    async Task<ConversationSummary> PlacedAsync(Task<ConversationSummary?> change, string notFound = NotFound)
    {
        var summary = await change ?? throw new HubException(notFound);
        await Clients.User(UserId).ConversationChanged(summary); // the user's other tabs move it too
        return summary;
    }

    static async Task<T> Refusing<T>(Task<T> change)
    {
        try
        {
            return await change;
        }
        catch (PlaceException ex)
        {
            throw new HubException(ex.Message);
        }
    }

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
        var quota = await AcquireQuotaAsync(1);
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

    /// <summary>
    /// Where a new question goes in an existing conversation (refused while a reply is written): under the message
    /// the page shows last (another tab may have switched versions since), else the current branch's end. Null for a new chat.
    /// </summary>
    async Task<long?> ParentOfNextQuestionAsync(Conversation? existing, long? shownLast)
    {
        if (existing is null) return null;
        await EnsureIdleAsync(existing.Id);
        var tree = await conversations.TreeAsync(existing.Id, Completes);
        if (shownLast is { } parent && !tree.Contains(parent)) throw new HubException("That message is not in this conversation.");
        return tree.IsEmpty ? null : shownLast ?? tree.CurrentLeaf(existing.CurrentLeafId);
    }

    async Task<QuotaTicket> AcquireQuotaAsync(int messages)
    {
        try
        {
            return await quotas.AcquireAsync(UserId, UserTier, Completes);
        }
        catch (RouterException ex) when (ex.Error == RouterError.QuotaExceeded)
        {
            throw new HubException(messages == 1 ? ex.Message : $"A compare of {messages} models counts {messages} messages. {ex.Message}");
        }
    }

    async Task<SendResult> StartReplyAsync(Conversation conversation, Message question, CatalogModel model, QuotaTicket quota)
    {
        var replies = await StartRepliesAsync(conversation, question, [(model, quota)], compareGroup: null);
        return new SendResult(conversation.Id, question.Id, replies[0]);
    }

    /// <summary>
    /// Writes the replies (one per model, each in its own slot) with the unsaved question and conversation in one
    /// transaction, then starts them. A conversation already streaming refuses the whole write.
    /// </summary>
    async Task<IReadOnlyList<long>> StartRepliesAsync(Conversation conversation, Message question,
        IReadOnlyList<(CatalogModel Model, QuotaTicket Quota)> answers, Guid? compareGroup)
    {
        foreach (var (model, _) in answers)
            if (await contextBudget.OverflowAsync(UserId, conversation, question, model, Completes) is { } tooLong) throw new HubException(tooLong);
        var replies = answers.Select((a, slot) => new Message
        {
            ConversationId = conversation.Id, Parent = question, Role = MessageRole.Assistant, Status = MessageStatus.Streaming,
            ModelId = a.Model.Id, ModelName = a.Model.ModelId, OwnerNode = generations.Node.Id, Slot = slot, CompareGroup = compareGroup,
        }).ToList();
        db.Messages.AddRange(replies);
        conversation.CurrentLeafId = null; // the new reply is the newest message: the branch shown ends there
        // Written even when it was already null here: a version switch may have set it since this conversation was read.
        if (db.Entry(conversation).State != EntityState.Added) db.Entry(conversation).Property(c => c.CurrentLeafId).IsModified = true;
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
        for (var i = 0; i < replies.Count; i++)
        {
            var (model, quota) = answers[i];
            var request = await prompts.BuildAsync(new ReplyContext(UserId, UserTier, conversation, questionId, replies[i].Id, model, quota), Completes);
            generations.Start(new GenerationStart(UserId, conversation.Id, questionId, replies[i].Id, model.ModelId, request));
        }
        return replies.Select(r => r.Id).ToList();
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
