using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Features.Sharing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Chats; // not ".Chat": the mock tests call a helper named Chat()

/// <summary>The chat app with a small import limit, so "too large" is cheap to reach.</summary>
public sealed class ExportImportApp : ChatTestApp
{
    public const int MaxImportBytes = 256 * 1024;

    protected override IDictionary<string, string?> Settings =>
        new Dictionary<string, string?>(base.Settings) { ["Import:MaxBytes"] = MaxImportBytes.ToString() };
}

[Collection(Aggregator.Web.Tests.Infrastructure.HeapMeasuringCollection.Name)]
public sealed partial class ExportImportTests(ExportImportApp app) : IClassFixture<ExportImportApp>
{
    static readonly string Fixture = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Chat", "Fixtures", "chatgpt-conversations.json"));

    /// <summary>Uploads through the account page's form (antiforgery token included) and returns what the page then says.</summary>
    static async Task<string> ImportAsync(ChatUser user, byte[] file)
    {
        var page = await user.Http.GetStringAsync(SharingExtensions.DataPage);
        var token = WebUtility.HtmlDecode(AntiforgeryToken().Match(page).Groups[1].Value);
        using var form = new MultipartFormDataContent
        {
            { new StringContent(token), "__RequestVerificationToken" },
        };
        var content = new ByteArrayContent(file);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        form.Add(content, "file", "conversations.json");
        var posted = await user.Http.PostAsync(SharingExtensions.ImportPath, form);
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        Assert.Equal(SharingExtensions.DataPage, posted.Headers.Location?.OriginalString);
        return WebUtility.HtmlDecode(await user.Http.GetStringAsync(SharingExtensions.DataPage));
    }

    Task<List<Message>> MessagesAsync(string userId) => app.QueryAsync(db => db.Messages.AsNoTracking()
        .Where(m => m.Conversation!.UserId == userId).OrderBy(m => m.Id).ToListAsync());

    Task<int> ConversationCountAsync(string userId) => app.QueryAsync(db => db.Conversations.CountAsync(c => c.UserId == userId));

    [Fact]
    public async Task A_chatgpt_export_becomes_trees_with_every_branch_and_the_shown_leaf()
    {
        var user = await app.UserAsync();
        var page = await ImportAsync(user, Encoding.UTF8.GetBytes(Fixture));
        Assert.Contains("Imported 2 conversations with 9 messages.", page);

        var conversations = await app.QueryAsync(db => db.Conversations.AsNoTracking().Where(c => c.UserId == user.UserId).OrderBy(c => c.CreatedAt).ToListAsync());
        Assert.Equal(["Trip planning", "Quick question"], conversations.Select(c => c.Title));
        Assert.Equal(DateTime.UnixEpoch.AddSeconds(1733000000.123456), conversations[0].CreatedAt, TimeSpan.FromMilliseconds(1));
        var messages = await MessagesAsync(user.UserId);
        var trip = messages.Where(m => m.ConversationId == conversations[0].Id).ToDictionary(m => m.Content);
        Assert.Equal(7, trip.Count); // the empty root, the hidden system message, the tool call and its result are left out
        long? ParentOf(string text) => trip[text].ParentId;
        Assert.Null(ParentOf("Plan a trip to Lisbon"));
        Assert.Equal(trip["Plan a trip to Lisbon"].Id, ParentOf("Day 1: walk through **Alfama**."));
        Assert.Equal(trip["Plan a trip to Lisbon"].Id, ParentOf("Here is a three-day plan.")); // the regenerated reply: a second version
        Assert.Equal(trip["Day 1: walk through **Alfama**."].Id, ParentOf("Make it cheaper"));
        Assert.Equal(trip["Make it cheaper"].Id, ParentOf("Stay in hostels and take the tram."));
        Assert.Equal(trip["Here is a three-day plan."].Id, ParentOf("Add food tips"));
        Assert.Equal(trip["Add food tips"].Id, ParentOf("Try pastéis de nata in Belém.")); // over the skipped tool call
        Assert.Equal("gpt-4o-mini", trip["Try pastéis de nata in Belém."].ModelName);
        Assert.Equal(MessageRole.User, trip["Add food tips"].Role);
        Assert.Equal(trip["Try pastéis de nata in Belém."].Id, conversations[0].CurrentLeafId);

        // The branch the chat shows is ChatGPT's current_node path.
        var shown = await app.QueryAsync(async db =>
        {
            var list = new Conversations(db);
            return (await list.BranchAsync(conversations[0], CancellationToken.None)).Messages.Select(m => m.Content).ToList();
        });
        Assert.Equal(["Plan a trip to Lisbon", "Here is a three-day plan.", "Add food tips", "Try pastéis de nata in Belém."], shown);

        var quick = messages.Where(m => m.ConversationId == conversations[1].Id).ToList();
        Assert.Equal(["What is in this picture?", "A cat on a windowsill."], quick.Select(m => m.Content));
    }

    [Fact]
    public async Task The_json_export_is_the_whole_tree_and_matches_what_was_imported()
    {
        var user = await app.UserAsync();
        await ImportAsync(user, Encoding.UTF8.GetBytes(Fixture));
        var trip = await app.QueryAsync(db => db.Conversations.AsNoTracking().SingleAsync(c => c.UserId == user.UserId && c.Title == "Trip planning"));
        var rows = (await MessagesAsync(user.UserId)).Where(m => m.ConversationId == trip.Id).ToList();

        var response = await user.Http.GetAsync($"/conversations/{trip.Id}/export.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Trip planning.json", response.Content.Headers.ContentDisposition?.FileNameStar);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var conversation = json.RootElement.GetProperty("conversation");
        Assert.Equal("aggregator.conversation", json.RootElement.GetProperty("format").GetString());
        Assert.Equal(trip.CurrentLeafId, conversation.GetProperty("currentLeafId").GetInt64());
        Assert.True(conversation.GetProperty("settings").TryGetProperty("systemPrompt", out _));
        var exported = conversation.GetProperty("messages").EnumerateArray().Select(m => (
            Id: m.GetProperty("id").GetInt64(),
            Parent: m.GetProperty("parentId").ValueKind == JsonValueKind.Null ? (long?)null : m.GetProperty("parentId").GetInt64(),
            Role: m.GetProperty("role").GetString(), Content: m.GetProperty("content").GetString(), Model: m.GetProperty("model").GetString(),
            Status: m.GetProperty("status").GetString())).ToList();
        Assert.Equal(rows.Select(m => (m.Id, m.ParentId, m.Role.ToString().ToLowerInvariant(), m.Content, m.ModelName, "complete")),
            exported.Select(m => (m.Id, m.Parent, m.Role!, m.Content!, m.Model, m.Status!)));
        Assert.All(conversation.GetProperty("messages").EnumerateArray(), m => Assert.EndsWith("Z", m.GetProperty("createdAt").GetString()));
    }

    [Fact]
    public async Task The_markdown_export_is_the_shown_branch_with_roles_models_and_times()
    {
        var user = await app.UserAsync();
        await ImportAsync(user, Encoding.UTF8.GetBytes(Fixture));
        var trip = await app.QueryAsync(db => db.Conversations.AsNoTracking().SingleAsync(c => c.UserId == user.UserId && c.Title == "Trip planning"));

        var response = await user.Http.GetAsync($"/conversations/{trip.Id}/export.md");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/markdown", response.Content.Headers.ContentType?.MediaType);
        var markdown = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("# Trip planning\n", markdown);
        Assert.Contains("## You · 2024-11-30 20:53 UTC\n\nPlan a trip to Lisbon\n", markdown);
        Assert.Contains("## Assistant (gpt-4o) · ", markdown);
        Assert.Contains("## Assistant (gpt-4o-mini) · ", markdown);
        Assert.Contains("Try pastéis de nata in Belém.", markdown);
        Assert.DoesNotContain("Stay in hostels", markdown); // another branch
        Assert.True(markdown.IndexOf("Add food tips", StringComparison.Ordinal) < markdown.IndexOf("Try pastéis", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Exports_are_the_owners_alone()
    {
        var owner = await app.UserAsync();
        await using var chat = await owner.ConnectAsync();
        var sent = await chat.SendAsync(app.FreeModelId, "Private thoughts");
        await chat.CompletedAsync(sent.AssistantMessageId);
        var other = await app.UserAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.GetAsync($"/conversations/{sent.ConversationId}/export.md")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.GetAsync($"/conversations/{sent.ConversationId}/export.json")).StatusCode);
        Assert.DoesNotContain("Private thoughts", await other.Http.GetStringAsync(SharingExtensions.ArchivePath));
        using var stranger = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        var anonymous = await stranger.GetAsync($"/conversations/{sent.ConversationId}/export.json");
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.Contains("/Account/Login", anonymous.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task The_account_archive_holds_everything_of_the_user_and_no_secret()
    {
        var user = await app.UserAsync();
        await ImportAsync(user, Encoding.UTF8.GetBytes(Fixture));
        await app.QueryAsync(async db =>
        {
            db.Folders.Add(new Folder { Id = Guid.NewGuid(), UserId = user.UserId, Name = "Travel" });
            db.Presets.Add(new ChatPreset { UserId = user.UserId, Name = "Terse", SystemPrompt = "Answer briefly.", Temperature = 0.2 });
            db.ApiTokens.Add(new ApiToken { UserId = user.UserId, Name = "laptop", Prefix = "agg-AbCdEfGh", SecretHash = new string('f', 64) });
            return await db.SaveChangesAsync();
        });
        var stored = await app.QueryAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == user.UserId));

        var response = await user.Http.GetAsync(SharingExtensions.ArchivePath);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(stored.PasswordHash!, text);
        Assert.DoesNotContain(stored.SecurityStamp!, text);
        Assert.DoesNotContain(new string('f', 64), text);
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal(user.Email, root.GetProperty("profile").GetProperty("email").GetString());
        Assert.Equal(["Travel"], root.GetProperty("folders").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        Assert.Equal("Answer briefly.", root.GetProperty("presets")[0].GetProperty("systemPrompt").GetString());
        Assert.Equal("agg-AbCdEfGh", root.GetProperty("apiTokens")[0].GetProperty("prefix").GetString());
        var conversations = root.GetProperty("conversations").EnumerateArray().ToList();
        Assert.Equal(2, conversations.Count);
        Assert.Equal(9, conversations.Sum(c => c.GetProperty("messages").GetArrayLength()));
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { """{"title": "not an array"}""", "it must be a JSON array of conversations" },
        { """[{"title": "Cut off", "mapping": {"a": {"message": null, "parent": null""", "is not valid JSON at line 1" },
        { """[{"title": "Wrong", "mapping": "text instead of nodes"}]""", "a value of the wrong type at line 1" },
        { """[{"title": "No tree", "create_time": 1}]""", "Conversation 1 (“No tree”) has no “mapping”" },
        { """[{"title": "Orphan", "mapping": {"a": {"message": null, "parent": "ghost"}}}]""", "message “a” names a parent “ghost” that is not in the mapping" },
        { """[{"title": "Loop", "mapping": {"r": {"message": null, "parent": null}, "a": {"message": null, "parent": "b"}, "b": {"message": null, "parent": "a"}}}]""", "(the mapping has a cycle)" },
        { "[]", "The file holds no conversations" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_file_is_refused_with_what_is_wrong_and_nothing_is_imported(string file, string expected)
    {
        var user = await app.UserAsync();
        var page = await ImportAsync(user, Encoding.UTF8.GetBytes(file));
        Assert.Contains("Nothing was imported. ", page);
        Assert.Contains(expected, page);
        Assert.Equal(0, await ConversationCountAsync(user.UserId));
    }

    [Fact]
    public async Task A_bad_conversation_after_good_ones_leaves_nothing_half_imported()
    {
        var user = await app.UserAsync();
        var good = Fixture.TrimEnd().TrimEnd(']');
        var page = await ImportAsync(user, Encoding.UTF8.GetBytes(good + """, {"title": "Broken", "mapping": null}]"""));
        Assert.Contains("Conversation 3 (“Broken”) has no “mapping”", page);
        Assert.Equal(0, await ConversationCountAsync(user.UserId));
        Assert.Empty(await MessagesAsync(user.UserId));
    }

    [Fact]
    public async Task A_file_over_the_limit_is_refused_before_it_is_read()
    {
        var user = await app.UserAsync();
        var conversations = string.Join(",", Enumerable.Repeat(Fixture.Trim()[1..^1], 200)); // a valid file, just too big
        var file = Encoding.UTF8.GetBytes($"[{conversations}]");
        Assert.True(file.Length > ExportImportApp.MaxImportBytes);
        var page = await ImportAsync(user, file);
        Assert.Contains("The file is too large", page);
        Assert.Contains("the limit for an import is 256 KB", page);
        Assert.Equal(0, await ConversationCountAsync(user.UserId));
    }

    [Fact]
    public async Task An_export_of_ten_thousand_messages_streams_in_bounded_memory()
    {
        var user = await app.UserAsync();
        var conversationId = Guid.CreateVersion7();
        await app.QueryAsync(async db =>
        {
            db.Conversations.Add(new Conversation { Id = conversationId, UserId = user.UserId, Title = "Very long" });
            await db.SaveChangesAsync();
            // 10,000 messages of 2 KB (20 MB of text, 40 MB as .NET strings), one chain.
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO "Messages" ("ConversationId", "Role", "Content", "Status", "Slot", "Seq", "TokensEstimated", "CreatedAt", "ModelName")
                SELECT {conversationId}, CASE WHEN g % 2 = 1 THEN 1 ELSE 2 END, 'Message ' || g || ' ' || repeat('x', 2000), 0, 0, 0, false,
                       now() + g * interval '1 millisecond', CASE WHEN g % 2 = 0 THEN 'gpt-4o-mini' END
                FROM generate_series(1, 10000) AS g
                """);
            return await db.Database.ExecuteSqlAsync($"""
                UPDATE "Messages" m SET "ParentId" = p.prev
                FROM (SELECT "Id", lag("Id") OVER (ORDER BY "Id") AS prev FROM "Messages" WHERE "ConversationId" = {conversationId}) p
                WHERE m."Id" = p."Id"
                """);
        });

        foreach (var (format, marker) in new[] { ("json", "\"parentId\""), ("md", "\n## ") })
        {
            var (count, peak) = await DownloadMeasuringAsync(user.Http, $"/conversations/{conversationId}/export.{format}", marker);
            Assert.Equal(10_000, count);
            // Holding the rows (or the document) at once would keep at least 40 MB alive; streaming keeps a few hundred rows.
            Assert.True(peak < 16 * 1024 * 1024, $"{format}: {peak / (1024 * 1024)} MB held during the export");
        }
    }

    /// <summary>
    /// Reads the download in chunks, counting <paramref name="marker"/>, while sampling the process's live heap
    /// (after a full collection, so only what is still referenced counts); returns the count and the peak above the start.
    /// </summary>
    static async Task<(int Count, long Peak)> DownloadMeasuringAsync(HttpClient http, string url, string marker)
    {
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = 0;
        using var done = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - baseline);
                try { await Task.Delay(25, done.Token); } catch (OperationCanceledException) { }
            }
        });
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        var pattern = Encoding.UTF8.GetBytes(marker);
        var buffer = new byte[64 * 1024];
        var carry = 0;
        var count = 0;
        int read;
        while ((read = await body.ReadAsync(buffer.AsMemory(carry, buffer.Length - carry))) > 0)
        {
            var span = buffer.AsSpan(0, carry + read);
            for (var at = span.IndexOf(pattern); at >= 0; at = span.IndexOf(pattern))
            {
                count++;
                span = span[(at + pattern.Length)..];
            }
            // Keep a possible start of the marker for the next chunk.
            carry = Math.Min(span.Length, pattern.Length - 1);
            span[^carry..].CopyTo(buffer);
        }
        await done.CancelAsync();
        await sampler;
        return (count, peak);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
