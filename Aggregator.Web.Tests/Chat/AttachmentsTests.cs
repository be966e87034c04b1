using System.Net;
using System.Text;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Attachments;
using Aggregator.Web.Features.Chat;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Aggregator.Web.Tests.Chats.AttachmentsTestApp;

namespace Aggregator.Web.Tests.Chats; // not ".Chat": the mock tests call a helper named Chat()

public sealed class AttachmentsTests(AttachmentsTestApp app) : IClassFixture<AttachmentsTestApp>
{
    static Task<SendResult> SendAsync(ChatConnection chat, long modelId, string text, IReadOnlyList<Guid> ids, Guid? conversationId = null) =>
        chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Send), new SendRequest(conversationId, modelId, text, AttachmentIds: ids));

    /// <summary>The upstream request whose body carries <paramref name="marker"/> (each test sends its own).</summary>
    MockUpstream.ReceivedRequest Received(string marker) =>
        app.Mock.State.Received.Single(r => r.Path.EndsWith("/chat/completions") || r.Path.EndsWith("/messages") ? r.Body.Contains(marker) : false);

    /// <summary>The text of every message the upstream got (string contents and text parts), decoded from its JSON.</summary>
    static string PromptText(MockUpstream.ReceivedRequest request) =>
        string.Join("\n", System.Text.Json.Nodes.JsonNode.Parse(request.Body)!["messages"]!.AsArray().Select(m => m!["content"] switch
        {
            System.Text.Json.Nodes.JsonValue v => v.GetValue<string>(),
            System.Text.Json.Nodes.JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
            _ => "",
        }));

    [Fact]
    public async Task An_image_reaches_an_OpenAI_standard_upstream_as_an_image_url_data_url_and_is_linked_to_the_question()
    {
        var user = await app.UserAsync();
        var png = Png();
        var uploaded = Assert.Single(await UploadOkAsync(user, ("photo.png", png, "image/png")));
        Assert.Equal("image", uploaded.Kind);
        Assert.Equal(640, uploaded.Width);
        Assert.NotNull(uploaded.ThumbnailUrl);

        await using var chat = await user.ConnectAsync();
        var sent = await SendAsync(chat, app.OpenAIVisionModelId, "What is in openai-image-marker?", [uploaded.Id]);
        var done = await chat.CompletedAsync(sent.AssistantMessageId);

        Assert.Equal("complete", done.Status);
        Assert.Contains("I see 1 image(s).", done.Content);
        var request = Received("openai-image-marker");
        var image = Assert.Single(request.Images);
        Assert.Equal("data_url", image.Kind);
        Assert.Equal("image/png", image.MediaType);
        Assert.Equal(png.Length, image.Bytes);
        Assert.Contains("data:image/png;base64," + Convert.ToBase64String(png), request.Body);
        var row = await app.QueryAsync(db => db.Attachments.AsNoTracking().SingleAsync(a => a.Id == uploaded.Id));
        Assert.Equal(sent.UserMessageId, row.MessageId);
        Assert.Equal(sent.ConversationId, row.ConversationId);
        Assert.Equal("image/png", row.ContentType);
        Assert.Equal(1, await app.QueryAsync(db => db.StoredFiles.CountAsync(f => f.Key == row.StorageKey))); // PostgreSQL store

        // The page after a reload shows the thumbnail on the question, linking to the full image.
        var page = await user.Http.GetStringAsync($"/{sent.ConversationId}");
        Assert.Contains($"/api/attachments/{uploaded.Id}/thumbnail", page);
    }

    [Fact]
    public async Task An_image_reaches_an_Anthropic_standard_upstream_as_a_base64_image_block()
    {
        var user = await app.UserAsync();
        var png = Png(300, 200, SkiaSharp.SKColors.OrangeRed);
        var uploaded = Assert.Single(await UploadOkAsync(user, ("red.png", png, "image/png")));
        await using var chat = await user.ConnectAsync();

        var sent = await SendAsync(chat, app.AnthropicVisionModelId, "Describe anthropic-image-marker", [uploaded.Id]);
        var done = await chat.CompletedAsync(sent.AssistantMessageId);

        Assert.Equal("complete", done.Status);
        Assert.Contains("I see 1 image(s).", done.Content);
        var request = Received("anthropic-image-marker");
        Assert.EndsWith("/messages", request.Path);
        var image = Assert.Single(request.Images);
        Assert.Equal("base64", image.Kind);
        Assert.Equal("image/png", image.MediaType);
        Assert.Equal(png.Length, image.Bytes);
    }

    [Fact]
    public async Task Text_files_and_PDF_text_go_into_the_prompt_with_their_file_names_for_every_question_on_the_branch()
    {
        var user = await app.UserAsync();
        var files = await UploadOkAsync(user,
            ("notes.md", Encoding.UTF8.GetBytes("# Notes\nThe launch code is tangerine-42."), "text/markdown"),
            ("report.pdf", Pdf("Quarterly revenue grew by seventeen percent."), "application/pdf"));
        Assert.Equal(["text", "pdf"], files.Select(f => f.Kind));
        await using var chat = await user.ConnectAsync();

        var first = await SendAsync(chat, app.FreeModelId, "Summarise text-files-marker", files.Select(f => f.Id).ToList());
        await chat.CompletedAsync(first.AssistantMessageId);
        var body = PromptText(Received("text-files-marker"));
        Assert.Contains("File: notes.md\n```\n# Notes\nThe launch code is tangerine-42.\n```", body);
        Assert.Contains("File: report.pdf", body);
        Assert.Contains("Quarterly revenue grew by seventeen percent.", body);

        // A later question on the same branch: the files of the earlier one are still part of the context.
        var second = await chat.SendAsync(app.FreeModelId, "And follow-up-marker?", first.ConversationId);
        await chat.CompletedAsync(second.AssistantMessageId);
        Assert.Contains("tangerine-42", PromptText(Received("follow-up-marker")));
    }

    [Fact]
    public async Task A_PDF_without_text_is_refused_with_a_clear_message_and_nothing_is_stored()
    {
        var user = await app.UserAsync();
        var storedBefore = await app.StoredFileCountAsync();
        using var response = await UploadAsync(user, ("scan.pdf", Pdf(""), "application/pdf"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("scan.pdf has no text to read", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await app.AttachmentCountAsync(user.UserId));
        Assert.Equal(storedBefore, await app.StoredFileCountAsync());
    }

    [Fact]
    public async Task A_file_whose_name_or_type_lies_is_judged_by_its_content()
    {
        var user = await app.UserAsync();
        // Text claiming to be a PNG is text; a PNG named .txt is an image; HTML and SVG are only ever text.
        var files = await UploadOkAsync(user,
            ("fake.png", "just words"u8.ToArray(), "image/png"),
            ("real.txt", Png(10, 10), "text/plain"),
            ("page.html", "<html><script>alert(1)</script></html>"u8.ToArray(), "text/html"),
            ("drawing.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"u8.ToArray(), "image/svg+xml"));
        Assert.Equal(["text", "image", "text", "text"], files.Select(f => f.Kind));
        Assert.Equal("text/plain; charset=utf-8", files[0].ContentType);
        Assert.Equal("image/png", files[1].ContentType);

        using (var image = await user.Http.GetAsync(files[1].Url))
        {
            Assert.Equal("image/png", image.Content.Headers.ContentType!.MediaType);
            Assert.Equal("inline", image.Content.Headers.ContentDisposition!.DispositionType);
            Assert.Equal("nosniff", image.Headers.GetValues("X-Content-Type-Options").Single());
        }
        foreach (var markup in files.Skip(2))
        {
            using var download = await user.Http.GetAsync(markup.Url);
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal("text/plain", download.Content.Headers.ContentType!.MediaType); // never text/html or image/svg+xml
            Assert.Equal("attachment", download.Content.Headers.ContentDisposition!.DispositionType);
            Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());
        }
        using (var thumbnail = await user.Http.GetAsync(files[1].ThumbnailUrl))
            Assert.Equal("image/webp", thumbnail.Content.Headers.ContentType!.MediaType);

        // Binary that is none of the accepted types, named and typed as an image: refused, nothing stored.
        var count = await app.AttachmentCountAsync(user.UserId);
        byte[] zip = [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0xFF, 0xFE, 0x00, 0x01];
        using var refused = await UploadAsync(user, ("holiday.jpg", zip, "image/jpeg"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, refused.StatusCode);
        Assert.Contains("holiday.jpg is not an image, a PDF or a text file", await refused.Content.ReadAsStringAsync());
        Assert.Equal(count, await app.AttachmentCountAsync(user.UserId));
    }

    [Fact]
    public async Task A_30_MB_image_on_the_free_tier_is_refused_with_the_limit_and_nothing_is_stored()
    {
        var user = await app.UserAsync();
        var big = new byte[30 * 1024 * 1024];
        Png(4, 4).CopyTo(big, 0);
        var storedBefore = await app.StoredFileCountAsync();

        using var response = await UploadAsync(user, ("huge.png", big, "image/png"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("up to 5 MB on the free tier", body);
        Assert.Equal(0, await app.AttachmentCountAsync(user.UserId));
        Assert.Equal(storedBefore, await app.StoredFileCountAsync());
    }

    [Fact]
    public async Task Twenty_files_at_once_are_refused_whole_and_a_question_cannot_carry_more_than_the_tier_allows()
    {
        var user = await app.UserAsync();
        var twenty = Enumerable.Range(1, 20).Select(i => ($"note{i}.txt", Encoding.UTF8.GetBytes($"note {i}"), "text/plain")).ToArray();
        using var response = await UploadAsync(user, twenty);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("20 files at once is too many: a message can carry at most 4 on the free tier", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await app.AttachmentCountAsync(user.UserId));

        // Four, then one more, sent together: refused by the hub before anything is written.
        var ids = (await UploadOkAsync(user, twenty[..4])).Concat(await UploadOkAsync(user, twenty[4..5])).Select(a => a.Id).ToList();
        await using var chat = await user.ConnectAsync();
        var refused = await Assert.ThrowsAsync<HubException>(() => SendAsync(chat, app.FreeModelId, "five files", ids));
        Assert.Contains("at most 4 files on the free tier", refused.Message);
        Assert.Equal(0, await app.QueryAsync(db => db.Conversations.CountAsync(c => c.UserId == user.UserId)));
    }

    [Fact]
    public async Task Another_users_file_is_not_found_on_download_and_refused_on_send()
    {
        var owner = await app.UserAsync();
        var file = Assert.Single(await UploadOkAsync(owner, ("mine.png", Png(), "image/png")));
        Assert.Equal(HttpStatusCode.OK, (await owner.Http.GetAsync(file.Url)).StatusCode);

        var intruder = await app.UserAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await intruder.Http.GetAsync(file.Url)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await intruder.Http.GetAsync(file.ThumbnailUrl)).StatusCode);
        using (var remove = new HttpRequestMessage(HttpMethod.Delete, file.Url))
        {
            remove.Headers.Add("RequestVerificationToken", await TokenAsync(intruder));
            Assert.Equal(HttpStatusCode.NotFound, (await intruder.Http.SendAsync(remove)).StatusCode);
        }
        await using var chat = await intruder.ConnectAsync();
        var refused = await Assert.ThrowsAsync<HubException>(() => SendAsync(chat, app.OpenAIVisionModelId, "steal", [file.Id]));
        Assert.Contains("no longer available", refused.Message);
        Assert.Equal(0, await app.QueryAsync(db => db.Conversations.CountAsync(c => c.UserId == intruder.UserId)));
        Assert.Null((await app.QueryAsync(db => db.Attachments.AsNoTracking().SingleAsync(a => a.Id == file.Id))).MessageId);
    }

    [Fact]
    public async Task An_image_for_a_text_only_model_is_refused_naming_the_model_before_anything_is_written()
    {
        var user = await app.UserAsync();
        var file = Assert.Single(await UploadOkAsync(user, ("chart.png", Png(), "image/png")));
        await using var chat = await user.ConnectAsync();

        var refused = await Assert.ThrowsAsync<HubException>(() => SendAsync(chat, app.FreeModelId, "look", [file.Id]));

        Assert.Contains("GPT-4o mini cannot see images (chart.png)", refused.Message);
        Assert.Equal(0, await app.QueryAsync(db => db.Conversations.CountAsync(c => c.UserId == user.UserId)));
        Assert.Null((await app.QueryAsync(db => db.Attachments.AsNoTracking().SingleAsync(a => a.Id == file.Id))).MessageId);
    }

    [Fact]
    public async Task An_upload_without_the_pages_antiforgery_token_is_refused()
    {
        var user = await app.UserAsync();
        using var form = new MultipartFormDataContent { { new ByteArrayContent("hello"u8.ToArray()), "files", "a.txt" } };
        using var response = await user.Http.PostAsync(AttachmentEndpoints.Path, form);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, await app.AttachmentCountAsync(user.UserId));
    }

    [Fact]
    public async Task An_edited_question_keeps_its_image()
    {
        var user = await app.UserAsync();
        var png = Png(50, 50);
        var file = Assert.Single(await UploadOkAsync(user, ("keep.png", png, "image/png")));
        await using var chat = await user.ConnectAsync();
        var sent = await SendAsync(chat, app.OpenAIVisionModelId, "first version", [file.Id]);
        await chat.CompletedAsync(sent.AssistantMessageId);

        var edited = await chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Edit), sent.ConversationId, sent.UserMessageId, "edited-version-marker", app.OpenAIVisionModelId);
        await chat.CompletedAsync(edited.AssistantMessageId);

        Assert.Equal(png.Length, Assert.Single(Received("edited-version-marker").Images).Bytes);
        var copies = await app.QueryAsync(db => db.Attachments.AsNoTracking().Where(a => a.MessageId == edited.UserMessageId).ToListAsync());
        Assert.Equal("keep.png", Assert.Single(copies).FileName);
    }

    [Fact]
    public async Task Deleting_a_conversation_makes_its_files_unreachable_at_once_and_the_purge_removes_their_bytes()
    {
        var user = await app.UserAsync();
        var file = Assert.Single(await UploadOkAsync(user, ("gone.png", Png(), "image/png")));
        var orphan = Assert.Single(await UploadOkAsync(user, ("never-sent.txt", "draft"u8.ToArray(), "text/plain")));
        await using var chat = await user.ConnectAsync();
        var sent = await SendAsync(chat, app.OpenAIVisionModelId, "soon deleted", [file.Id]);
        await chat.CompletedAsync(sent.AssistantMessageId);
        var row = await app.QueryAsync(db => db.Attachments.AsNoTracking().SingleAsync(a => a.Id == file.Id));

        await chat.Hub.InvokeAsync(nameof(ChatHub.Delete), sent.ConversationId);
        Assert.Equal(HttpStatusCode.NotFound, (await user.Http.GetAsync(file.Url)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await user.Http.GetAsync(file.ThumbnailUrl)).StatusCode);

        var janitor = app.Services.GetRequiredService<AttachmentJanitor>();
        // Within the undo window nothing goes; a fresh unsent upload stays too.
        await janitor.SweepAsync(DateTime.UtcNow, CancellationToken.None);
        Assert.Equal(2, await app.AttachmentCountAsync(user.UserId));
        // Past the undo window: the deleted conversation's file and its thumbnail are gone, rows and bytes.
        await janitor.SweepAsync(DateTime.UtcNow.AddMinutes(11), CancellationToken.None);
        Assert.False(await app.QueryAsync(db => db.Attachments.AnyAsync(a => a.Id == file.Id)));
        Assert.False(await app.QueryAsync(db => db.StoredFiles.AnyAsync(f => f.Key == row.StorageKey || f.Key == row.ThumbnailKey)));
        Assert.True(await app.QueryAsync(db => db.Attachments.AnyAsync(a => a.Id == orphan.Id)));
        // A day on: the upload never sent goes as well.
        await janitor.SweepAsync(DateTime.UtcNow.AddHours(25), CancellationToken.None);
        Assert.Equal(0, await app.AttachmentCountAsync(user.UserId));
    }

    [Fact]
    public async Task A_preview_removed_before_sending_deletes_the_upload()
    {
        var user = await app.UserAsync();
        var file = Assert.Single(await UploadOkAsync(user, ("oops.txt", "wrong file"u8.ToArray(), "text/plain")));
        using var remove = new HttpRequestMessage(HttpMethod.Delete, file.Url);
        remove.Headers.Add("RequestVerificationToken", await TokenAsync(user));
        Assert.Equal(HttpStatusCode.NoContent, (await user.Http.SendAsync(remove)).StatusCode);
        Assert.Equal(0, await app.AttachmentCountAsync(user.UserId));
        Assert.Equal(HttpStatusCode.NotFound, (await user.Http.GetAsync(file.Url)).StatusCode);
    }

    [Fact]
    public async Task The_PostgreSQL_store_round_trips_bytes_in_stored_file_rows()
    {
        var store = app.Services.GetRequiredService<IAttachmentStore>();
        Assert.IsType<DatabaseAttachmentStore>(store);
        await RoundTripAsync(store);
        Assert.Equal(0, await app.QueryAsync(db => db.StoredFiles.CountAsync(f => f.Key.StartsWith("test/"))));
    }

    [Fact]
    public async Task The_folder_store_round_trips_bytes_in_files_and_refuses_keys_that_leave_its_folder()
    {
        var root = Directory.CreateTempSubdirectory("attachments-").FullName;
        try
        {
            var store = new FolderAttachmentStore(root);
            await RoundTripAsync(store);
            Assert.Empty(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories));
            foreach (var bad in new[] { "../escape", "a/../../escape", "/etc/passwd", "a\\b", "A", "", "a//b", "a/./b" })
                await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync(bad, [1], CancellationToken.None));
            Assert.False(File.Exists(Path.Combine(root, "..", "escape")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    static async Task RoundTripAsync(IAttachmentStore store)
    {
        var key = $"test/{Guid.NewGuid():N}";
        var data = Png(20, 20);
        Assert.Null(await store.OpenAsync(key, CancellationToken.None));
        await store.PutAsync(key, data, CancellationToken.None);
        await using (var stream = await store.OpenAsync(key, CancellationToken.None))
        {
            Assert.NotNull(stream);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.Equal(data, copy.ToArray());
        }
        await store.DeleteAsync(key, CancellationToken.None);
        await store.DeleteAsync(key, CancellationToken.None); // twice is no error
        Assert.Null(await store.OpenAsync(key, CancellationToken.None));
    }
}

/// <summary>The embedded default (no PostgreSQL): the real program keeps attachment bytes as owner-only files under Data:Folder.</summary>
public sealed class EmbeddedAttachmentsTests
{
    [Fact]
    public async Task Without_PostgreSQL_uploads_are_files_in_the_data_folder_served_back_to_their_owner()
    {
        var parent = Directory.CreateTempSubdirectory("aggregator-embedded-attachments-");
        var data = Path.Combine(parent.FullName, "data");
        try
        {
            var settings = new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = "", ["ConnectionStrings:Redis"] = "", ["Data:Folder"] = data };
            await using var app = Infrastructure.AppProcess.Start(settings);
            var url = await app.ListeningAsync();
            var cookies = new CookieContainer();
            using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies }) { BaseAddress = url };
            var register = await http.GetStringAsync("/Account/Register");
            var form = new Dictionary<string, string>
            {
                ["Input.Email"] = $"embedded-{Guid.NewGuid():N}@example.com", ["Input.Password"] = "Passw0rd!x", ["Input.ConfirmPassword"] = "Passw0rd!x",
                ["__RequestVerificationToken"] = Token(register),
            };
            Assert.Equal(HttpStatusCode.Redirect, (await http.PostAsync("/Account/Register", new FormUrlEncodedContent(form))).StatusCode);

            var png = AttachmentsTestApp.Png(64, 64);
            using var upload = new MultipartFormDataContent { { new ByteArrayContent(png), "files", "local.png" } };
            using var request = new HttpRequestMessage(HttpMethod.Post, AttachmentEndpoints.Path) { Content = upload };
            request.Headers.Add("RequestVerificationToken", Token(await http.GetStringAsync("/")));
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            var file = Assert.Single(System.Text.Json.JsonSerializer.Deserialize<UploadResult>(body, System.Text.Json.JsonSerializerOptions.Web)!.Attachments);

            var stored = Path.Combine(data, "attachments", "a", file.Id.ToString("N"));
            Assert.Equal(png, await File.ReadAllBytesAsync(stored));
            Assert.True(File.Exists(Path.Combine(data, "attachments", "t", file.Id.ToString("N"))));
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(stored));
            Assert.Equal(png, await http.GetByteArrayAsync(file.Url));
        }
        finally { parent.Delete(recursive: true); }
    }

    static string Token(string page) =>
        WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value);
}
