using Aggregator.Web.Data;
using Aggregator.Web.Features.Chat;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Tests.Chats; // not ".Chat": the mock tests call a helper named Chat()

public sealed class SidebarTests(ChatTestApp app) : IClassFixture<ChatTestApp>
{
    static Task<ConversationPage> ListAsync(ChatConnection chat, string? search = null) =>
        chat.Hub.InvokeAsync<ConversationPage>(nameof(ChatHub.ListConversations), search, null);

    async Task<Guid> ConversationAsync(ChatConnection chat, string text)
    {
        var sent = await chat.SendAsync(app.FreeModelId, text);
        await chat.CompletedAsync(sent.AssistantMessageId);
        return sent.ConversationId;
    }

    Task<Conversation> RowAsync(Guid id) => app.QueryAsync(db => db.Conversations.AsNoTracking().SingleAsync(c => c.Id == id));

    [Fact]
    public async Task Pinned_conversations_come_first_and_archived_ones_leave_the_list_until_unarchived()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var older = await ConversationAsync(chat, "Older one");
        var newer = await ConversationAsync(chat, "Newer one");
        var archived = await ConversationAsync(chat, "Put away");
        Assert.Equal([archived, newer, older], (await ListAsync(chat)).Items.Select(c => c.Id));

        var pinned = await chat.Hub.InvokeAsync<ConversationSummary>(nameof(ChatHub.Pin), older, true);
        Assert.True(pinned.Pinned);
        Assert.NotNull((await RowAsync(older)).PinnedAt);
        var stored = await chat.Hub.InvokeAsync<ConversationSummary>(nameof(ChatHub.Archive), archived, true);
        Assert.True(stored.Archived);
        Assert.NotNull((await RowAsync(archived)).ArchivedAt);

        var page = await ListAsync(chat);
        Assert.Equal([older, newer], page.Items.Select(c => c.Id));
        Assert.True(page.Items[0].Pinned);
        Assert.Empty((await ListAsync(chat, "Put away")).Items); // archived: out of the list and its search
        Assert.Equal([archived], (await chat.Hub.InvokeAsync<List<ConversationSummary>>(nameof(ChatHub.ListArchived))).Select(c => c.Id));

        await chat.Hub.InvokeAsync<ConversationSummary>(nameof(ChatHub.Archive), archived, false);
        await chat.Hub.InvokeAsync<ConversationSummary>(nameof(ChatHub.Pin), older, false);
        Assert.Null((await RowAsync(archived)).ArchivedAt);
        Assert.Equal([archived, newer, older], (await ListAsync(chat)).Items.Select(c => c.Id));
        Assert.Empty(await chat.Hub.InvokeAsync<List<ConversationSummary>>(nameof(ChatHub.ListArchived)));
        Assert.Contains(chat.Changes, c => c.Id == archived && c.Archived); // the user's other tabs heard of it
    }

    [Fact]
    public async Task Folders_are_created_renamed_filled_and_deleted_without_losing_their_conversations()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var id = await ConversationAsync(chat, "Goes into a folder");
        var folder = await chat.Hub.InvokeAsync<FolderView>(nameof(ChatHub.CreateFolder), "  Work   stuff ");
        Assert.Equal("Work stuff", folder.Name);
        var renamed = await chat.Hub.InvokeAsync<FolderView>(nameof(ChatHub.RenameFolder), folder.Id, "Work");
        Assert.Equal("Work", renamed.Name);
        Assert.Equal([new FolderView(folder.Id, "Work")], await chat.Hub.InvokeAsync<List<FolderView>>(nameof(ChatHub.ListFolders)));

        var moved = await chat.Hub.InvokeAsync<ConversationSummary>(nameof(ChatHub.MoveToFolder), id, folder.Id);
        Assert.Equal(folder.Id, moved.FolderId);
        Assert.Equal(folder.Id, (await RowAsync(id)).FolderId);
        Assert.Equal(folder.Id, (await ListAsync(chat)).Items.Single().FolderId);

        var empty = await Assert.ThrowsAsync<HubException>(() => chat.Hub.InvokeAsync<FolderView>(nameof(ChatHub.CreateFolder), "   "));
        Assert.Contains("needs a name", empty.Message);

        await chat.Hub.InvokeAsync(nameof(ChatHub.DeleteFolder), folder.Id);
        Assert.Empty(await chat.Hub.InvokeAsync<List<FolderView>>(nameof(ChatHub.ListFolders)));
        var row = await RowAsync(id);
        Assert.Null(row.FolderId);
        Assert.Null(row.DeletedAt);
        Assert.Equal(0, await app.QueryAsync(db => db.Folders.CountAsync(f => f.UserId == user.UserId)));
    }

    [Fact]
    public async Task Another_users_conversation_or_folder_finds_nothing()
    {
        var owner = await app.UserAsync();
        await using var mine = await owner.ConnectAsync();
        var id = await ConversationAsync(mine, "Not yours");
        var folder = await mine.Hub.InvokeAsync<FolderView>(nameof(ChatHub.CreateFolder), "Mine");

        var other = await app.UserAsync();
        await using var theirs = await other.ConnectAsync();
        var ownFolder = await theirs.Hub.InvokeAsync<FolderView>(nameof(ChatHub.CreateFolder), "Theirs");
        var ownConversation = await ConversationAsync(theirs, "Their own");
        await Assert.ThrowsAsync<HubException>(() => theirs.Hub.InvokeAsync<ConversationSummary>(nameof(ChatHub.Pin), id, true));
        await Assert.ThrowsAsync<HubException>(() => theirs.Hub.InvokeAsync<ConversationSummary>(nameof(ChatHub.Archive), id, true));
        await Assert.ThrowsAsync<HubException>(() => theirs.Hub.InvokeAsync<ConversationSummary>(nameof(ChatHub.MoveToFolder), id, ownFolder.Id));
        // Their own conversation into my folder: the folder is not theirs.
        await Assert.ThrowsAsync<HubException>(() => theirs.Hub.InvokeAsync<ConversationSummary>(nameof(ChatHub.MoveToFolder), ownConversation, folder.Id));
        await Assert.ThrowsAsync<HubException>(() => theirs.Hub.InvokeAsync<FolderView>(nameof(ChatHub.RenameFolder), folder.Id, "Hijacked"));
        await Assert.ThrowsAsync<HubException>(() => theirs.Hub.InvokeAsync(nameof(ChatHub.DeleteFolder), folder.Id));
        Assert.Equal([ownFolder], await theirs.Hub.InvokeAsync<List<FolderView>>(nameof(ChatHub.ListFolders)));

        var row = await RowAsync(id);
        Assert.Null(row.PinnedAt);
        Assert.Null(row.ArchivedAt);
        Assert.Null(row.FolderId);
        Assert.Null((await RowAsync(ownConversation)).FolderId);
        Assert.Equal("Mine", await app.QueryAsync(db => db.Folders.Where(f => f.Id == folder.Id).Select(f => f.Name).SingleAsync()));
    }

    [Fact]
    public async Task Search_finds_a_match_on_a_branch_that_is_not_shown()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var sent = await chat.SendAsync(app.FreeModelId, "zebra crossing rules");
        await chat.CompletedAsync(sent.AssistantMessageId);
        // Editing the question makes a second version; the shown branch now has only the edited text.
        var edited = await chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Edit), sent.ConversationId, sent.UserMessageId, "pedestrian rules", app.FreeModelId);
        await chat.CompletedAsync(edited.AssistantMessageId);
        var shown = await app.QueryAsync(async db =>
            (await new Conversations(db).BranchAsync(await db.Conversations.SingleAsync(c => c.Id == sent.ConversationId), CancellationToken.None)).Messages);
        Assert.DoesNotContain(shown, m => m.Content.Contains("zebra"));

        Assert.Equal([sent.ConversationId], (await ListAsync(chat, "ZEBRA")).Items.Select(c => c.Id));
        Assert.Empty((await ListAsync(chat, "no-such-words-anywhere")).Items);
    }
}
