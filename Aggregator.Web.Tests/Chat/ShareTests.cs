using System.Net;
using System.Text.RegularExpressions;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Features.Sharing;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Tests.Chats; // not ".Chat": the mock tests call a helper named Chat()

public sealed partial class ShareTests(ChatTestApp app) : IClassFixture<ChatTestApp>
{
    HttpClient Stranger() => app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });

    async Task<(ChatUser User, ChatConnection Chat, SendResult Sent)> ConversationAsync(string question)
    {
        var user = await app.UserAsync();
        var chat = await user.ConnectAsync();
        var sent = await chat.SendAsync(app.FreeModelId, question);
        await chat.CompletedAsync(sent.AssistantMessageId);
        return (user, chat, sent);
    }

    static Task<string> ShareAsync(ChatConnection chat, Guid conversationId, bool attachments = false) =>
        chat.Hub.InvokeAsync<string>(nameof(ChatHub.CreateShare), conversationId, attachments);

    [Fact]
    public async Task A_share_link_opens_without_cookies_not_indexed_under_the_csp_and_stays_as_it_was_when_shared()
    {
        var (user, chat, sent) = await ConversationAsync("What is a monad? mock:tokens=30");
        await using var _ = chat;
        var path = await ShareAsync(chat, sent.ConversationId);
        Assert.StartsWith("/s/", path);

        using var stranger = Stranger();
        var page = await stranger.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("noindex", page.Headers.GetValues("X-Robots-Tag").Single());
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<meta name=\"robots\" content=\"noindex", html);
        Assert.Contains("What is a monad?", html);
        Assert.Contains("<h2>Mock reply</h2>", html); // the reply as the chat rendered it (Markdig)
        Assert.DoesNotContain("composer-input", html);
        Assert.DoesNotMatch(InlineScript(), html);

        // Only the secret's hash is stored; the link works no more than the hash would.
        var secret = path["/s/".Length..];
        var row = await app.QueryAsync(db => db.ShareLinks.AsNoTracking().SingleAsync(s => s.ConversationId == sent.ConversationId));
        Assert.Equal(ShareLinks.Hash(secret), row.TokenHash);
        Assert.DoesNotContain(secret, row.Snapshot);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync("/s/" + row.TokenHash)).StatusCode);

        // Later changes stay out of the snapshot: a new turn and a new title.
        var later = await chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Send), new SendRequest(sent.ConversationId, app.FreeModelId, "A later question nobody was shown"));
        await chat.CompletedAsync(later.AssistantMessageId);
        await chat.Hub.InvokeAsync<ConversationSummary>(nameof(ChatHub.Rename), sent.ConversationId, "Renamed afterwards");
        var again = await stranger.GetStringAsync(path);
        Assert.DoesNotContain("A later question nobody was shown", again);
        Assert.DoesNotContain("Renamed afterwards", again);
        Assert.Contains("What is a monad?", again);
        Assert.NotNull(user);
    }

    [Fact]
    public async Task A_revoked_link_is_404_and_so_is_a_link_to_a_deleted_conversation()
    {
        var (user, chat, sent) = await ConversationAsync("Share me, then take it back");
        await using var _ = chat;
        var revoked = await ShareAsync(chat, sent.ConversationId);
        var kept = await ShareAsync(chat, sent.ConversationId);
        using var stranger = Stranger();
        Assert.Equal(HttpStatusCode.OK, (await stranger.GetAsync(revoked)).StatusCode);

        var list = await user.Http.GetStringAsync(SharingExtensions.DataPage);
        Assert.Equal(2, Regex.Matches(list, "data-testid=\"share-row\"").Count);
        Assert.DoesNotContain(revoked["/s/".Length..], list); // the secret was shown once, never again
        var hash = ShareLinks.Hash(revoked["/s/".Length..]);
        var id = await app.QueryAsync(db => db.ShareLinks.Where(s => s.TokenHash == hash).Select(s => s.Id).SingleAsync());
        var revoke = await user.Http.PostFormAsync(SharingExtensions.DataPage, new Dictionary<string, string>(), $"{SharingExtensions.DataPage}?handler=Revoke&id={id}");
        Assert.Equal(HttpStatusCode.Redirect, revoke.StatusCode);

        var gone = await stranger.GetAsync(revoked);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Contains("noindex", gone.Headers.GetValues("X-Robots-Tag").Single());
        Assert.NotNull(await app.QueryAsync(db => db.ShareLinks.Where(s => s.Id == id).Select(s => s.RevokedAt).SingleAsync()));
        Assert.Equal(HttpStatusCode.OK, (await stranger.GetAsync(kept)).StatusCode);

        await chat.Hub.InvokeAsync(nameof(ChatHub.Delete), sent.ConversationId);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync(kept)).StatusCode);
    }

    [Fact]
    public async Task Nobody_shares_or_revokes_another_users_conversation()
    {
        var (_, chat, sent) = await ConversationAsync("Mine alone");
        await using var __ = chat;
        var path = await ShareAsync(chat, sent.ConversationId);
        var id = await app.QueryAsync(db => db.ShareLinks.Where(s => s.ConversationId == sent.ConversationId).Select(s => s.Id).SingleAsync());

        var other = await app.UserAsync();
        await using var theirs = await other.ConnectAsync();
        var refused = await Assert.ThrowsAsync<HubException>(() => ShareAsync(theirs, sent.ConversationId));
        Assert.Contains("does not exist", refused.Message);
        var revoke = await other.Http.PostFormAsync(SharingExtensions.DataPage, new Dictionary<string, string>(), $"{SharingExtensions.DataPage}?handler=Revoke&id={id}");
        Assert.Equal(HttpStatusCode.NotFound, revoke.StatusCode);
        Assert.DoesNotContain("Mine alone", await other.Http.GetStringAsync(SharingExtensions.DataPage));

        using var stranger = Stranger();
        Assert.Equal(HttpStatusCode.OK, (await stranger.GetAsync(path)).StatusCode);
        Assert.Equal(1, await app.QueryAsync(db => db.ShareLinks.CountAsync(s => s.ConversationId == sent.ConversationId)));
    }

    [Fact]
    public async Task Attachments_are_left_out_unless_chosen_and_then_only_their_names_show()
    {
        var (user, chat, sent) = await ConversationAsync("Look at my file");
        await using var _ = chat;
        await app.QueryAsync(async db =>
        {
            db.Attachments.Add(new Attachment
            {
                Id = Guid.NewGuid(), UserId = user.UserId, ConversationId = sent.ConversationId, MessageId = sent.UserMessageId,
                FileName = "holiday-photo.png", ContentType = "image/png", Kind = AttachmentKind.Image, SizeBytes = 10, StorageKey = "stored-bytes-key-1",
            });
            return await db.SaveChangesAsync();
        });
        using var stranger = Stranger();
        Assert.DoesNotContain("holiday-photo.png", await stranger.GetStringAsync(await ShareAsync(chat, sent.ConversationId)));
        var with = await stranger.GetStringAsync(await ShareAsync(chat, sent.ConversationId, attachments: true));
        Assert.Contains("holiday-photo.png", with);
        Assert.DoesNotContain("stored-bytes-key-1", with); // the name, not where the bytes are
    }

    /// <summary>A script element with a body (inline script); the CSP would refuse it anyway.</summary>
    [GeneratedRegex("<script(?![^>]*\\bsrc=)[^>]*>")]
    private static partial Regex InlineScript();
}
