using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;
using OpenAI.Chat;

namespace Aggregator.Web.Tests.Api;

/// <summary>The official OpenAI .NET client against /v1: what a user's SDK or tool does.</summary>
public sealed class OpenAIClientTests(ApiTestApp app) : IClassFixture<ApiTestApp>
{
    [Fact]
    public async Task Lists_the_callers_models_as_provider_slash_id_without_locked_or_hidden_ones()
    {
        var user = await app.UserAsync();
        var (secret, _) = await app.TokenAsync(user);
        var models = app.OpenAI(secret).GetOpenAIModelClient();

        var ids = (await models.GetModelsAsync()).Value.Select(m => m.Id).ToList();
        Assert.Contains("mock/gpt-4o-mini", ids);
        Assert.Contains("cheap/gpt-4.1", ids);
        Assert.DoesNotContain("mock/gpt-4o", ids);      // pro, caller is free
        Assert.DoesNotContain("mock/gpt-secret", ids);  // hidden
        var one = (await models.GetModelAsync("mock/gpt-4o-mini")).Value;
        Assert.Equal("mock", one.OwnedBy);
    }

    [Fact]
    public async Task Chat_without_streaming_answers_and_records_usage_against_the_user()
    {
        var user = await app.UserAsync();
        var (secret, _) = await app.TokenAsync(user);
        var chat = app.OpenAI(secret).GetChatClient("mock/gpt-4o-mini");

        ChatCompletion reply = await chat.CompleteChatAsync([new UserChatMessage("hello there mock:tokens=5")]);

        Assert.StartsWith("You said", reply.Content[0].Text);
        Assert.Equal("mock/gpt-4o-mini", reply.Model);
        Assert.Equal(ChatFinishReason.Stop, reply.FinishReason);
        Assert.Equal(5, reply.Usage.OutputTokenCount);
        Assert.True(reply.Usage.InputTokenCount > 0);
        var usage = await Eventually(() => app.QueryAsync(db => db.Usage.AsNoTracking().Where(u => u.UserId == user.UserId).ToListAsync()));
        Assert.Equal("api", Assert.Single(usage).Source);
        Assert.Equal(app.FreeModelId, usage[0].ModelId);
    }

    [Fact]
    public async Task Chat_streaming_sends_the_text_in_pieces_and_the_usage_at_the_end()
    {
        var user = await app.UserAsync();
        var (secret, _) = await app.TokenAsync(user);
        var chat = app.OpenAI(secret).GetChatClient("mock/gpt-4o-mini");

        var text = new System.Text.StringBuilder();
        var pieces = 0;
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("stream it mock:tokens=6")],
                           new ChatCompletionOptions { MaxOutputTokenCount = 100 }))
        {
            foreach (var part in update.ContentUpdate) { text.Append(part.Text); pieces++; }
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.StartsWith("You said", text.ToString());
        Assert.True(pieces >= 6, $"{pieces} content pieces");
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(6, usage.OutputTokenCount);
    }

    static async Task<List<UsageRecord>> Eventually(Func<Task<List<UsageRecord>>> read)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var rows = await read();
            if (rows.Count > 0 || DateTime.UtcNow > until) return rows;
            await Task.Delay(50);
        }
    }
}
