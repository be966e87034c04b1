using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Chats; // not ".Chat": the mock tests call a helper named Chat()

/// <summary>
/// <see cref="ChatTestApp"/> plus the models instructions and parameters need: an OpenAI-standard reasoning model with an
/// output ceiling, an Anthropic-standard reasoning model, and a model with a tiny context window.
/// </summary>
public sealed class InstructionsTestApp : ChatTestApp
{
    readonly Lazy<Task> seeded;
    public long ReasoningModelId { get; private set; }
    public long ClaudeModelId { get; private set; }
    public long TinyModelId { get; private set; }

    public InstructionsTestApp() => seeded = new(SeedAsync);

    public Task ReadyAsync() => seeded.Value;

    async Task SeedAsync()
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var secrets = scope.ServiceProvider.GetRequiredService<SecretBox>();
        var openAI = await db.Providers.SingleAsync(p => p.Name == "mock");
        var o3 = await AddModelAsync(db, openAI, "o3", "o3", Tier.Free, caps: ModelCapabilities.Reasoning);
        o3.MaxOutputTokens = 100_000;
        var tiny = await AddModelAsync(db, openAI, "deepseek-chat", "Tiny DeepSeek", Tier.Free);
        tiny.ContextWindow = 200;
        var claude = await SeedProviderAsync(db, secrets, "claude", "Claude", Mock.AnthropicUrl, kind: ProviderKind.Direct);
        claude.ApiStandard = ApiStandard.Anthropic;
        var sonnet = await AddModelAsync(db, claude, "claude-sonnet-4-5", "Claude Sonnet 4.5", Tier.Free, caps: ModelCapabilities.Reasoning);
        sonnet.MaxOutputTokens = 64_000;
        sonnet.ContextWindow = 200_000;
        await db.SaveChangesAsync();
        (ReasoningModelId, ClaudeModelId, TinyModelId) = (o3.Id, sonnet.Id, tiny.Id);
        await scope.ServiceProvider.GetRequiredService<CatalogCache>().InvalidateAsync();
    }
}

public sealed class InstructionsTests(InstructionsTestApp app) : IClassFixture<InstructionsTestApp>
{
    /// <summary>Sends a question with a unique marker, waits for the reply, and returns the body the mock received for it.</summary>
    async Task<JsonObject> SendAndReceiveAsync(ChatConnection chat, SendRequest request)
    {
        var sent = await chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Send), request);
        Assert.Equal("complete", (await chat.CompletedAsync(sent.AssistantMessageId)).Status);
        var received = app.Mock.State.Received.Last(r => r.Body.Contains(Marker(request.Text), StringComparison.Ordinal));
        return JsonNode.Parse(received.Body)!.AsObject();
    }

    static string Marker(string text) => text.Split(' ')[0];

    static string Unique(string text) => $"q{Guid.NewGuid():N} {text} mock:tokens=3";

    /// <summary>The system prompt as the upstream got it: OpenAI's first system message, or Anthropic's top-level field.</summary>
    static string? SystemOf(JsonObject body) =>
        body["system"]?.GetValue<string>()
        ?? body["messages"]!.AsArray().FirstOrDefault(m => m!["role"]!.GetValue<string>() is "system" or "developer")?["content"]?.GetValue<string>();

    async Task<Conversation> ConversationAsync(Guid id) =>
        await app.QueryAsync(db => db.Conversations.AsNoTracking().SingleAsync(c => c.Id == id));

    async Task SetInstructionsAsync(ChatUser user, string text)
    {
        var response = await user.Http.PostFormAsync("/Account/Instructions", new Dictionary<string, string> { ["CustomInstructions"] = text });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    [Fact]
    public async Task Custom_instructions_are_sent_as_the_system_prompt_and_a_conversation_prompt_overrides_them()
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        await SetInstructionsAsync(user, "  Always answer in French.  ");
        Assert.Equal("Always answer in French.", await app.QueryAsync(db => db.Users.Where(u => u.Id == user.UserId).Select(u => u.CustomInstructions).SingleAsync()));
        await using var chat = await user.ConnectAsync();

        var first = await SendAndReceiveAsync(chat, new SendRequest(null, app.FreeModelId, Unique("bonjour")));
        Assert.Equal("Always answer in French.", SystemOf(first));

        // A conversation's own prompt replaces them, through both standards.
        var own = new SendRequest(null, app.FreeModelId, Unique("pirate")) { Settings = new ChatSettings(SystemPrompt: "Talk like a pirate.") };
        Assert.Equal("Talk like a pirate.", SystemOf(await SendAndReceiveAsync(chat, own)));
        var claude = new SendRequest(null, app.ClaudeModelId, Unique("pirate")) { Settings = new ChatSettings(SystemPrompt: "Talk like a pirate.") };
        Assert.Equal("Talk like a pirate.", SystemOf(await SendAndReceiveAsync(chat, claude)));

        // Saved on an existing conversation from the settings dialog: the next reply follows it; cleared, the instructions return.
        var conversationId = await LatestAsync(user);
        await chat.Hub.InvokeAsync<ChatSettings>(nameof(ChatHub.SaveSettings), conversationId, app.ClaudeModelId, new ChatSettings(SystemPrompt: "Be terse."));
        Assert.Equal("Be terse.", SystemOf(await SendAndReceiveAsync(chat, new SendRequest(conversationId, app.ClaudeModelId, Unique("again")))));
        await chat.Hub.InvokeAsync<ChatSettings>(nameof(ChatHub.SaveSettings), conversationId, app.ClaudeModelId, new ChatSettings(SystemPrompt: "  "));
        Assert.Null((await ConversationAsync(conversationId)).SystemPrompt);
        Assert.Equal("Always answer in French.", SystemOf(await SendAndReceiveAsync(chat, new SendRequest(conversationId, app.ClaudeModelId, Unique("once more")))));

        var view = await chat.Hub.InvokeAsync<ChatSettingsView>(nameof(ChatHub.GetSettings), conversationId);
        Assert.True(view.HasCustomInstructions);
    }

    async Task<Guid> LatestAsync(ChatUser user) =>
        await app.QueryAsync(db => db.Conversations.Where(c => c.UserId == user.UserId).OrderByDescending(c => c.UpdatedAt).Select(c => c.Id).FirstAsync());

    [Fact]
    public async Task Parameters_reach_an_OpenAI_standard_upstream()
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var settings = new ChatSettings(Temperature: 0.3, TopP: 0.9, MaxOutputTokens: 2048, ReasoningEffort: "high");

        var body = await SendAndReceiveAsync(chat, new SendRequest(null, app.ReasoningModelId, Unique("think")) { Settings = settings });

        Assert.Equal(0.3, body["temperature"]!.GetValue<double>());
        Assert.Equal(0.9, body["top_p"]!.GetValue<double>());
        Assert.Equal(2048, (body["max_tokens"] ?? body["max_completion_tokens"])!.GetValue<int>());
        Assert.Equal("high", body["reasoning_effort"]!.GetValue<string>());
        var saved = await ConversationAsync(await LatestAsync(user));
        Assert.Equal((0.3, 0.9, 2048, "high"), (saved.Temperature, saved.TopP, saved.MaxOutputTokens, saved.ReasoningEffort));

        // The same conversation on a model without reasoning: the effort stays saved but is not sent.
        var plain = await SendAndReceiveAsync(chat, new SendRequest(saved.Id, app.FreeModelId, Unique("plain")));
        Assert.Null(plain["reasoning_effort"]);
        Assert.Equal(0.3, plain["temperature"]!.GetValue<double>());
    }

    [Fact]
    public async Task Parameters_reach_an_Anthropic_standard_upstream_as_sampling_and_a_thinking_budget()
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();

        var sampled = await SendAndReceiveAsync(chat, new SendRequest(null, app.ClaudeModelId, Unique("sample"))
        {
            Settings = new ChatSettings(Temperature: 0.4, MaxOutputTokens: 3000),
        });
        Assert.Equal(0.4, sampled["temperature"]!.GetValue<double>());
        Assert.Equal(3000, sampled["max_tokens"]!.GetValue<int>());
        Assert.Null(sampled["thinking"]);

        var topP = await SendAndReceiveAsync(chat, new SendRequest(null, app.ClaudeModelId, Unique("nucleus")) { Settings = new ChatSettings(TopP: 0.7) });
        Assert.Equal(0.7, topP["top_p"]!.GetValue<double>());

        var thinking = await SendAndReceiveAsync(chat, new SendRequest(null, app.ClaudeModelId, Unique("ponder"))
        {
            Settings = new ChatSettings(MaxOutputTokens: 20_000, ReasoningEffort: "medium"),
        });
        Assert.Equal("enabled", thinking["thinking"]!["type"]!.GetValue<string>());
        Assert.Equal(4096, thinking["thinking"]!["budget_tokens"]!.GetValue<int>());
        Assert.Equal(20_000, thinking["max_tokens"]!.GetValue<int>());
    }

    [Theory]
    [InlineData(2.5, null, null, null, "Temperature must be between 0 and 2")]
    [InlineData(-0.1, null, null, null, "Temperature must be between 0 and 2")]
    [InlineData(null, 1.5, null, null, "Top P must be between 0 and 1")]
    [InlineData(null, null, 0, null, "Max output tokens must be at least 1")]
    [InlineData(null, null, 100_001, null, "o3 writes at most 100,000 tokens per reply")]
    [InlineData(null, null, null, "extreme", "Reasoning effort must be one of minimal, low, medium, high")]
    public async Task Invalid_parameters_are_refused_with_a_clear_error_and_nothing_is_saved(double? temperature, double? topP, int? maxOutput, string? effort, string expected)
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var bad = new ChatSettings(null, temperature, topP, maxOutput, effort);

        var onSend = await Assert.ThrowsAsync<HubException>(() =>
            chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Send), new SendRequest(null, app.ReasoningModelId, Unique("bad")) { Settings = bad }));
        Assert.Contains(expected, onSend.Message);
        Assert.Equal(0, await app.QueryAsync(db => db.Conversations.CountAsync(c => c.UserId == user.UserId)));

        var sent = await chat.SendAsync(app.ReasoningModelId, Unique("fine"));
        await chat.CompletedAsync(sent.AssistantMessageId);
        var onSave = await Assert.ThrowsAsync<HubException>(() =>
            chat.Hub.InvokeAsync<ChatSettings>(nameof(ChatHub.SaveSettings), sent.ConversationId, app.ReasoningModelId, bad));
        Assert.Contains(expected, onSave.Message);
        var saved = await ConversationAsync(sent.ConversationId);
        Assert.Equal(ChatSettings.None, ChatSettings.Of(saved));
    }

    [Fact]
    public async Task A_reasoning_effort_for_a_model_without_reasoning_and_too_long_prompts_are_refused()
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();

        var effort = await Assert.ThrowsAsync<HubException>(() => chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Send),
            new SendRequest(null, app.FreeModelId, Unique("x")) { Settings = new ChatSettings(ReasoningEffort: "low") }));
        Assert.Contains("GPT-4o mini is not a reasoning model", effort.Message);
        var prompt = await Assert.ThrowsAsync<HubException>(() => chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Send),
            new SendRequest(null, app.FreeModelId, Unique("x")) { Settings = new ChatSettings(SystemPrompt: new string('a', 20_001)) }));
        Assert.Contains("The system prompt is 20,001 characters long; the limit is 20,000", prompt.Message);

        var tooLong = await user.Http.PostFormAsync("/Account/Instructions", new Dictionary<string, string> { ["CustomInstructions"] = new string('b', 20_001) });
        Assert.Equal(HttpStatusCode.OK, tooLong.StatusCode);
        Assert.Contains("Custom instructions are 20,001 characters long; the limit is 20,000.", WebUtility.HtmlDecode(await tooLong.Content.ReadAsStringAsync()));
        Assert.Null(await app.QueryAsync(db => db.Users.Where(u => u.Id == user.UserId).Select(u => u.CustomInstructions).SingleAsync()));
        Assert.Equal(0, await app.QueryAsync(db => db.Conversations.CountAsync(c => c.UserId == user.UserId)));
    }

    [Fact]
    public async Task A_question_that_does_not_fit_the_context_window_is_refused_and_nothing_is_written()
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        int Completions() => app.Mock.State.Received.Count(r => r.Path.EndsWith("/chat/completions", StringComparison.Ordinal));
        var completionsBefore = Completions();

        // 200 tokens of context, 1,024 kept for the reply by default (min with the model's ceiling): even a short question is too much.
        var refused = await Assert.ThrowsAsync<HubException>(() => chat.SendAsync(app.TinyModelId, "hello"));
        Assert.Matches(@"This conversation is ~\d+ tokens .*Tiny DeepSeek takes 200\. Start a new chat or pick a model with a larger context\.", refused.Message);
        Assert.Equal(0, await app.QueryAsync(db => db.Conversations.CountAsync(c => c.UserId == user.UserId)));

        // An existing conversation that outgrew the model: refused on the next question, and an edit too long for it, with nothing added.
        var sent = await chat.SendAsync(app.FreeModelId, "tell me mock:tokens=400");
        await chat.CompletedAsync(sent.AssistantMessageId);
        var messages = await app.QueryAsync(db => db.Messages.CountAsync(m => m.ConversationId == sent.ConversationId));
        await chat.Hub.InvokeAsync<ChatSettings>(nameof(ChatHub.SaveSettings), sent.ConversationId, app.TinyModelId, new ChatSettings(MaxOutputTokens: 10));
        var next = await Assert.ThrowsAsync<HubException>(() => chat.SendAsync(app.TinyModelId, "short", sent.ConversationId));
        Assert.Contains("Tiny DeepSeek takes 200", next.Message);
        var edited = await Assert.ThrowsAsync<HubException>(() => chat.Hub.InvokeAsync<SendResult>(nameof(ChatHub.Edit),
            sent.ConversationId, sent.UserMessageId, new string('x', 1000), app.TinyModelId));
        Assert.Contains("Start a new chat or pick a model with a larger context", edited.Message);
        Assert.Equal(messages, await app.QueryAsync(db => db.Messages.CountAsync(m => m.ConversationId == sent.ConversationId)));
        Assert.Equal(completionsBefore + 1, Completions()); // only the question that fitted went upstream

        // The gauge's numbers: the same estimate, against each model's window.
        var usage = await chat.Hub.InvokeAsync<ContextUsage>(nameof(ChatHub.GetContextUsage), sent.ConversationId, app.FreeModelId);
        Assert.Equal(128_000, usage.Window);
        Assert.InRange(usage.Tokens, 200, 2000);
        var tiny = await chat.Hub.InvokeAsync<ContextUsage>(nameof(ChatHub.GetContextUsage), sent.ConversationId, app.TinyModelId);
        Assert.Equal((200, 10), (tiny.Window, tiny.ReservedOutput));
    }

    [Fact]
    public async Task Presets_are_created_renamed_applied_and_deleted_and_another_users_preset_finds_nothing()
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();

        var created = await chat.Hub.InvokeAsync<PresetView>(nameof(ChatHub.CreatePreset), "Careful coder", app.ClaudeModelId,
            new ChatSettings("You review code.", 0.2, null, 4000, "low"));
        Assert.Equal(("Careful coder", app.ClaudeModelId), (created.Name, created.ModelId));
        var duplicate = await Assert.ThrowsAsync<HubException>(() =>
            chat.Hub.InvokeAsync<PresetView>(nameof(ChatHub.CreatePreset), " careful CODER ", app.FreeModelId, ChatSettings.None));
        Assert.Contains("You already have a preset named “careful CODER”", duplicate.Message);
        var invalid = await Assert.ThrowsAsync<HubException>(() =>
            chat.Hub.InvokeAsync<PresetView>(nameof(ChatHub.CreatePreset), "Hot", app.FreeModelId, new ChatSettings(Temperature: 3)));
        Assert.Contains("Temperature must be between 0 and 2", invalid.Message);
        await Assert.ThrowsAsync<HubException>(() => chat.Hub.InvokeAsync<PresetView>(nameof(ChatHub.CreatePreset), " ", app.FreeModelId, ChatSettings.None));

        var renamed = await chat.Hub.InvokeAsync<PresetView>(nameof(ChatHub.RenamePreset), created.Id, "Reviewer");
        Assert.Equal("Reviewer", renamed.Name);
        var list = await chat.Hub.InvokeAsync<IReadOnlyList<PresetView>>(nameof(ChatHub.ListPresets));
        Assert.Equal(new ChatSettings("You review code.", 0.2, null, 4000, "low"), Assert.Single(list).Settings);

        // Applied to a conversation: its model and settings, and the next reply is sent with them.
        var sent = await chat.SendAsync(app.FreeModelId, Unique("start"));
        await chat.CompletedAsync(sent.AssistantMessageId);
        await chat.Hub.InvokeAsync<PresetView>(nameof(ChatHub.ApplyPreset), sent.ConversationId, created.Id);
        var conversation = await ConversationAsync(sent.ConversationId);
        Assert.Equal(app.ClaudeModelId, conversation.ModelId);
        Assert.Equal(renamed.Settings, ChatSettings.Of(conversation));
        var body = await SendAndReceiveAsync(chat, new SendRequest(sent.ConversationId, app.ClaudeModelId, Unique("review this")));
        Assert.Equal("You review code.", SystemOf(body));
        Assert.Equal(1024, body["thinking"]!["budget_tokens"]!.GetValue<int>());

        // Another user: the id finds nothing on every call, and the owner's preset is untouched.
        var other = await app.UserAsync();
        await using var otherChat = await other.ConnectAsync();
        Assert.Empty(await otherChat.Hub.InvokeAsync<IReadOnlyList<PresetView>>(nameof(ChatHub.ListPresets)));
        var otherSent = await otherChat.SendAsync(app.FreeModelId, Unique("mine"));
        await otherChat.CompletedAsync(otherSent.AssistantMessageId);
        foreach (var call in new Func<Task>[]
        {
            () => otherChat.Hub.InvokeAsync<PresetView>(nameof(ChatHub.RenamePreset), created.Id, "Stolen"),
            () => otherChat.Hub.InvokeAsync(nameof(ChatHub.DeletePreset), created.Id),
            () => otherChat.Hub.InvokeAsync<PresetView>(nameof(ChatHub.ApplyPreset), otherSent.ConversationId, created.Id),
            () => otherChat.Hub.InvokeAsync<ChatSettings>(nameof(ChatHub.SaveSettings), sent.ConversationId, app.FreeModelId, ChatSettings.None),
            () => otherChat.Hub.InvokeAsync<ChatSettingsView>(nameof(ChatHub.GetSettings), sent.ConversationId),
        })
        {
            var refused = await Assert.ThrowsAsync<HubException>(call);
            Assert.Contains("does not exist", refused.Message);
        }
        Assert.Equal("Reviewer", await app.QueryAsync(db => db.Presets.Where(p => p.Id == created.Id).Select(p => p.Name).SingleAsync()));
        Assert.Equal(ChatSettings.None, ChatSettings.Of(await ConversationAsync(otherSent.ConversationId)));

        await chat.Hub.InvokeAsync(nameof(ChatHub.DeletePreset), created.Id);
        Assert.Empty(await chat.Hub.InvokeAsync<IReadOnlyList<PresetView>>(nameof(ChatHub.ListPresets)));
        await Assert.ThrowsAsync<HubException>(() => chat.Hub.InvokeAsync(nameof(ChatHub.DeletePreset), created.Id));
    }
}
