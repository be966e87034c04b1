using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Chats;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;

namespace Aggregator.Web.Tests.Api;

/// <summary>
/// The official OpenAI client against /v1/chat/completions with everything OpenAI callers send — tools, tool
/// results, images, response_format, stop, top_p, unknown fields — to an OpenAI-standard upstream (the
/// caller's body forwarded) and to an Anthropic-standard one (the body translated), asserting what reached
/// the mock upstream and what came back.
/// </summary>
public sealed class ChatCompletionFidelityTests(ApiTestApp app) : IClassFixture<ApiTestApp>
{
    const string OpenAIModel = "mock/gpt-4o-mini";
    const string AnthropicModel = "claude/claude-sonnet-4-5";
    static readonly SemaphoreSlim Seeding = new(1, 1);

    static readonly BinaryData WeatherSchema = BinaryData.FromString(
        """{"type":"object","properties":{"city":{"type":"string"},"unit":{"enum":["c","f"]},"days":{"type":"integer"}},"required":["city"]}""");
    /// <summary>What the mock's call of get_weather carries (built from the schema, see the mock's README).</summary>
    const string WeatherArguments = """{"city":"mock","unit":"c","days":1}""";
    static ChatTool Weather => ChatTool.CreateFunctionTool("get_weather", "The weather in a city", WeatherSchema);

    public static TheoryData<string> Models => [OpenAIModel, AnthropicModel];

    [Theory]
    [MemberData(nameof(Models))]
    public async Task A_tool_call_without_streaming_comes_back_as_message_tool_calls(string model)
    {
        var chat = await ChatAsync(model);

        ChatCompletion reply = await chat.CompleteChatAsync([new UserChatMessage("Weather in Paris?")], new ChatCompletionOptions { Tools = { Weather } });

        Assert.Equal(ChatFinishReason.ToolCalls, reply.FinishReason);
        Assert.Empty(reply.Content);
        var call = Assert.Single(reply.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.False(string.IsNullOrEmpty(call.Id));
        AssertJson(WeatherArguments, call.FunctionArguments.ToString());
        Assert.True(reply.Usage.OutputTokenCount > 0);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task A_streamed_tool_call_opens_once_and_its_arguments_assemble_from_the_deltas(string model)
    {
        var chat = await ChatAsync(model);

        var arguments = new StringBuilder();
        var opened = new List<(int Index, string Id, string Name)>();
        var fragments = 0;
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Weather in Paris?")], new ChatCompletionOptions { Tools = { Weather } }))
        {
            foreach (var tool in update.ToolCallUpdates)
            {
                if (tool.ToolCallId is not null) opened.Add((tool.Index, tool.ToolCallId, tool.FunctionName));
                var piece = tool.FunctionArgumentsUpdate?.ToString();
                if (!string.IsNullOrEmpty(piece)) { arguments.Append(piece); fragments++; }
            }
            Assert.DoesNotContain(update.ContentUpdate, p => p.Text.Length > 0);
            finish ??= update.FinishReason;
        }

        var (index, id, name) = Assert.Single(opened);
        Assert.Equal((0, "get_weather"), (index, name));
        Assert.False(string.IsNullOrEmpty(id));
        Assert.True(fragments > 1, $"arguments came in {fragments} fragment(s)");
        AssertJson(WeatherArguments, arguments.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task A_tool_result_goes_back_to_the_upstream_and_the_model_answers_from_it(string model)
    {
        var chat = await ChatAsync(model);
        var options = new ChatCompletionOptions { Tools = { Weather } };
        List<ChatMessage> conversation = [new UserChatMessage("Weather in Paris?")];
        ChatCompletion call = await chat.CompleteChatAsync(conversation, options);
        var callId = Assert.Single(call.ToolCalls).Id;

        conversation.Add(new AssistantChatMessage(call));
        conversation.Add(new ToolChatMessage(callId, "18 degrees and sunny"));
        ChatCompletion answer = await chat.CompleteChatAsync(conversation, options);

        Assert.Equal(ChatFinishReason.Stop, answer.FinishReason);
        Assert.StartsWith("The tool returned: \"18 degrees and sunny", answer.Content[0].Text);
        using var sent = JsonDocument.Parse(LastChat(model, "18 degrees and sunny").Body);
        var messages = sent.RootElement.GetProperty("messages");
        if (model == AnthropicModel)
        {
            Assert.Equal(["user", "assistant", "user"], messages.EnumerateArray().Select(m => m.GetProperty("role").GetString()));
            var use = messages[1].GetProperty("content")[0];
            Assert.Equal(("tool_use", callId), (use.GetProperty("type").GetString(), use.GetProperty("id").GetString()));
            AssertJson(WeatherArguments, use.GetProperty("input").GetRawText());
            var result = messages[2].GetProperty("content")[0];
            Assert.Equal(("tool_result", callId), (result.GetProperty("type").GetString(), result.GetProperty("tool_use_id").GetString()));
        }
        else
        {
            Assert.Equal(["user", "assistant", "tool"], messages.EnumerateArray().Select(m => m.GetProperty("role").GetString()));
            Assert.Equal(callId, messages[2].GetProperty("tool_call_id").GetString());
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Image_parts_reach_the_upstream_as_url_and_inline_data(string model)
    {
        var chat = await ChatAsync(model);
        var marker = Guid.NewGuid().ToString("N");
        var png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

        ChatCompletion reply = await chat.CompleteChatAsync([new UserChatMessage(
            ChatMessageContentPart.CreateTextPart($"What are these? {marker}"),
            ChatMessageContentPart.CreateImagePart(new Uri("https://images.example.com/cat.jpg")),
            ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(png), "image/png"))]);

        Assert.Contains("I see 2 image", reply.Content[0].Text);
        var images = LastChat(model, marker).Images;
        Assert.Equal(2, images.Count);
        Assert.Equal(("url", "https://images.example.com/cat.jpg"), (images[0].Kind, images[0].Url));
        Assert.Equal((model == AnthropicModel ? "base64" : "data_url", "image/png", png.Length), (images[1].Kind, images[1].MediaType, images[1].Bytes));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task A_broken_data_url_is_a_400_naming_the_part_and_nothing_reaches_the_upstream(string model)
    {
        var client = await ApiAsync();
        var marker = Guid.NewGuid().ToString("N");
        var body = $$$"""{"model":"{{{model}}}","messages":[{"role":"user","content":[{"type":"text","text":"{{{marker}}}"},{"type":"image_url","image_url":{"url":"data:image/png;base64,not*base64"}}]}]}""";

        var error = await (await client.PostAsync("/v1/chat/completions", ApiTestApp.Json(body))).ErrorAsync(400);

        Assert.Equal(("messages[0].content[1].image_url.url", "invalid_value"), (error.GetProperty("param").GetString(), error.GetProperty("code").GetString()));
        Assert.DoesNotContain(app.Mock.State.Received, r => r.Body.Contains(marker));
    }

    [Fact]
    public async Task Unknown_fields_top_level_and_inside_messages_reach_an_OpenAI_upstream_untouched()
    {
        var client = await ApiAsync();
        var marker = Guid.NewGuid().ToString("N");
        var messages = $$$"""[{"role":"system","content":"be brief","x_note":"kept"},{"role":"user","name":"ann","content":[{"type":"text","text":"hello {{{marker}}}","cache_control":{"type":"ephemeral"}}]}]""";
        var response = await client.PostAsync("/v1/chat/completions", ApiTestApp.Json(
            $$"""{"model":"{{OpenAIModel}}","messages":{{messages}},"seed":1234,"logit_bias":{"50256":-100},"x_vendor":{"deep":[1,{"a":null}]},"metadata":{"k":"v"},"stream":false}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var sent = JsonNode.Parse(LastChat(OpenAIModel, marker).Body)!.AsObject();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(messages), sent["messages"]), sent["messages"]!.ToJsonString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"deep":[1,{"a":null}]}"""), sent["x_vendor"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"50256":-100}"""), sent["logit_bias"]));
        Assert.Equal((1234, "v", "gpt-4o-mini"), ((int)sent["seed"]!, (string?)sent["metadata"]!["k"], (string?)sent["model"]));
        Assert.False((bool)sent["stream"]!); // ours: a whole reply is asked for as one JSON body
        Assert.Null(sent["stream_options"]); // OpenAI refuses stream_options without stream
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task The_upstream_is_asked_to_stream_only_when_the_caller_streams(string model)
    {
        var client = await ApiAsync();
        foreach (var stream in new[] { false, true })
        {
            var marker = Guid.NewGuid().ToString("N");
            var response = await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat(model, $"hello {marker} mock:tokens=3", stream));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(stream ? "text/event-stream" : "application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains(stream ? "data: [DONE]" : "\"finish_reason\":\"stop\"", body);
            var sent = JsonNode.Parse(LastChat(model, marker).Body)!.AsObject();
            Assert.Equal(stream, (bool)sent["stream"]!);
            if (model == OpenAIModel) Assert.Equal(stream, sent["stream_options"]?["include_usage"] is not null);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Response_format_stop_and_top_p_reach_the_upstream(string model)
    {
        var chat = await ChatAsync(model);
        var marker = Guid.NewGuid().ToString("N");
        var options = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("answer", BinaryData.FromString("""{"type":"object","properties":{"n":{"type":"integer"}}}""")),
            StopSequences = { "ZZZ", "YYY" },
            TopP = 0.5f,
        };

        await chat.CompleteChatAsync([new UserChatMessage($"Count {marker}")], options);

        var sent = JsonNode.Parse(LastChat(model, marker).Body)!.AsObject();
        Assert.Equal(0.5, (double)sent["top_p"]!, 3);
        if (model == AnthropicModel)
        {
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""["ZZZ","YYY"]"""), sent["stop_sequences"]));
            Assert.Contains("""conforms to this JSON Schema, and nothing else (no prose, no Markdown code fences): {"type":"object","properties":{"n":{"type":"integer"}}}""", (string?)sent["system"]);
        }
        else
        {
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""["ZZZ","YYY"]"""), sent["stop"]));
            Assert.Equal("answer", (string?)sent["response_format"]!["json_schema"]!["name"]);
        }
    }

    [Fact]
    public async Task A_temperature_above_Anthropics_range_is_capped_and_reaches_it_alone()
    {
        var chat = await ChatAsync(AnthropicModel);
        var marker = Guid.NewGuid().ToString("N");

        await chat.CompleteChatAsync([new UserChatMessage($"Warm {marker}")], new ChatCompletionOptions { Temperature = 1.5f, TopP = 0.5f });

        var sent = JsonNode.Parse(LastChat(AnthropicModel, marker).Body)!.AsObject();
        Assert.Equal(1.0, (double)sent["temperature"]!);
        Assert.False(sent.ContainsKey("top_p")); // Anthropic takes one of the two
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Reasoning_is_sent_as_reasoning_content_with_its_token_count(string model)
    {
        var client = await ApiAsync();

        var whole = await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat(model, "think first mock:fault=reasoning mock:tokens=4"));
        using var doc = JsonDocument.Parse(await whole.Content.ReadAsStringAsync());
        var message = doc.RootElement.GetProperty("choices")[0].GetProperty("message");
        Assert.False(string.IsNullOrEmpty(message.GetProperty("reasoning_content").GetString()));
        Assert.StartsWith("You said", message.GetProperty("content").GetString());
        var usage = doc.RootElement.GetProperty("usage");
        var reasoningTokens = usage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32();
        // Anthropic reports no separate thinking count; OpenAI-standard upstreams do, and it is passed on.
        if (model == OpenAIModel) Assert.True(reasoningTokens > 0, $"{reasoningTokens} reasoning tokens");
        Assert.Equal(0, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());

        var streamed = await (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat(model, "think first mock:fault=reasoning mock:tokens=4", stream: true))).Content.ReadAsStringAsync();
        var deltas = streamed.Split("\n\n").Where(e => e.StartsWith("data: {")).Select(e => JsonNode.Parse(e["data: ".Length..])!["choices"]![0]!["delta"]!).ToList();
        Assert.Equal("assistant", (string?)deltas[0]["role"]);
        var firstReasoning = deltas.FindIndex(d => d["reasoning_content"] is not null);
        var firstContent = deltas.FindIndex(d => d["content"] is JsonValue v && v.GetValue<string>().Length > 0);
        Assert.True(firstReasoning >= 0 && firstReasoning < firstContent, streamed);
        Assert.EndsWith("data: [DONE]\n\n", streamed);
    }

    [Fact]
    public async Task A_reply_of_only_tool_calls_has_null_content_and_the_stream_opens_the_call_with_the_role()
    {
        var client = await ApiAsync();
        const string tools = ""","tools":[{"type":"function","function":{"name":"now","parameters":{"type":"object","properties":{}}}}]""";

        var whole = await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat(AnthropicModel, "time?", extra: tools));
        using var doc = JsonDocument.Parse(await whole.Content.ReadAsStringAsync());
        var choice = doc.RootElement.GetProperty("choices")[0];
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("message").GetProperty("content").ValueKind);
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("{}", choice.GetProperty("message").GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments").GetString());

        var streamed = await (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat(AnthropicModel, "time?", stream: true, extra: tools))).Content.ReadAsStringAsync();
        var first = JsonNode.Parse(streamed.Split("\n\n")[0]["data: ".Length..])!["choices"]![0]!["delta"]!.AsObject();
        Assert.Equal("assistant", (string?)first["role"]);
        Assert.True(first.ContainsKey("content") && first["content"] is null, first.ToJsonString());
        var call = first["tool_calls"]![0]!;
        Assert.Equal((0, "function", "now", ""), ((int)call["index"]!, (string?)call["type"], (string?)call["function"]!["name"], (string?)call["function"]!["arguments"]));
        Assert.StartsWith("toolu_", (string?)call["id"]);
    }

    async Task<ChatClient> ChatAsync(string model)
    {
        await AnthropicProviderAsync();
        var user = await app.UserAsync();
        return app.OpenAI((await app.TokenAsync(user)).Secret).GetChatClient(model);
    }

    async Task<HttpClient> ApiAsync()
    {
        await AnthropicProviderAsync();
        var user = await app.UserAsync();
        return app.Api((await app.TokenAsync(user)).Secret);
    }

    /// <summary>The chat the mock received for <paramref name="model"/> whose body carries <paramref name="marker"/>.</summary>
    ReceivedRequest LastChat(string model, string marker)
    {
        var path = model == AnthropicModel ? "/anthropic/v1/messages" : "/openai/v1/chat/completions";
        return app.Mock.State.Received.Last(r => r.Path.EndsWith(path) && r.Body.Contains(marker));
    }

    /// <summary>An Anthropic-standard provider "claude" on the mock's Anthropic root, seeded once per app.</summary>
    async Task AnthropicProviderAsync()
    {
        await Seeding.WaitAsync();
        try
        {
            await using var scope = app.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            if (await db.Providers.AnyAsync(p => p.Name == "claude")) return;
            var provider = await ChatTestApp.SeedProviderAsync(db, scope.ServiceProvider.GetRequiredService<SecretBox>(), "claude", "Claude", app.Mock.AnthropicUrl);
            provider.ApiStandard = ApiStandard.Anthropic;
            provider.Kind = ProviderKind.Direct;
            await db.SaveChangesAsync();
            await ChatTestApp.AddModelAsync(db, provider, "claude-sonnet-4-5", "Claude Sonnet 4.5", Tier.Free);
            await scope.ServiceProvider.GetRequiredService<CatalogCache>().InvalidateAsync();
        }
        finally
        {
            Seeding.Release();
        }
    }

    static void AssertJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected {expected}, got {actual}");
}
