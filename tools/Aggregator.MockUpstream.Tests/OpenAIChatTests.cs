using System.ClientModel;
using System.Net;
using System.Text.Json.Nodes;
using Aggregator.MockUpstream;
using OpenAI;
using OpenAI.Chat;
using static Aggregator.MockUpstream.Tests.MockCalls;

namespace Aggregator.MockUpstream.Tests;

public class OpenAIChatTests
{
    [Fact]
    public async Task Non_streaming_reply_is_a_chat_completion_with_consistent_usage()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat("Please show me markdown")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("chat.completion", (string?)json!["object"]);
        Assert.StartsWith("chatcmpl-", (string?)json["id"]);
        Assert.Equal("gpt-4o", (string?)json["model"]);
        var choice = json["choices"]![0]!;
        Assert.Equal("assistant", (string?)choice["message"]!["role"]);
        Assert.Equal("stop", (string?)choice["finish_reason"]);
        var content = (string)choice["message"]!["content"]!;
        Assert.StartsWith("You said: \"Please show me markdown\"", content);
        Assert.Contains("\n## ", content);
        Assert.Contains("\n- ", content);
        Assert.Contains("|-----|", content);
        Assert.Contains("```python", content);
        var usage = json["usage"]!;
        Assert.Equal(60, (int)usage["completion_tokens"]!);
        Assert.Equal((int)Math.Ceiling(("Be brief.".Length + "Please show me markdown".Length) / 4.0), (int)usage["prompt_tokens"]!);
        Assert.Equal((int)usage["prompt_tokens"]! + 60, (int)usage["total_tokens"]!);
    }

    [Fact]
    public async Task Streaming_sends_role_content_finish_usage_and_done_in_order()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, events) = await StreamAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(stream: true, includeUsage: true)));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.All(events, e => Assert.Equal("message", e.EventType));
        Assert.Equal("[DONE]", events[^1].Data);
        var chunks = Chunks(events);
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string?)c["object"]));
        Assert.Single(chunks.Select(c => (string?)c["id"]).Distinct());

        Assert.Equal("assistant", (string?)chunks[0]["choices"]![0]!["delta"]!["role"]);
        Assert.Equal("", (string?)chunks[0]["choices"]![0]!["delta"]!["content"]);
        var finish = chunks[^2];
        Assert.Equal("stop", (string?)finish["choices"]![0]!["finish_reason"]);
        Assert.Empty(finish["choices"]![0]!["delta"]!.AsObject());
        var usageChunk = chunks[^1];
        Assert.Empty(usageChunk["choices"]!.AsArray());
        Assert.All(chunks[..^1], c => Assert.Null(c["usage"]));

        var contentChunks = ContentChunkCount(chunks);
        Assert.Equal(60, contentChunks);
        Assert.Equal(contentChunks, (int)usageChunk["usage"]!["completion_tokens"]!);

        var (_, whole, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat()));
        Assert.Equal((string)whole!["choices"]![0]!["message"]!["content"]!, ContentOf(chunks));
    }

    [Fact]
    public async Task Streaming_without_include_usage_sends_no_usage_chunk()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (_, events) = await StreamAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(stream: true)));

        var chunks = Chunks(events);
        Assert.All(chunks, c => Assert.NotEmpty(c["choices"]!.AsArray()));
        Assert.All(chunks, c => Assert.Null(c["usage"]));
        Assert.Equal("stop", (string?)chunks[^1]["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public async Task Magic_words_set_the_reply_text_and_length()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (_, exact, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat("mock:reply=<script>alert(1)</script> **x**")));
        Assert.Equal("<script>alert(1)</script> **x**", (string?)exact!["choices"]![0]!["message"]!["content"]);

        var (_, events) = await StreamAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat("short please mock:tokens=7", stream: true)));
        Assert.Equal(7, ContentChunkCount(Chunks(events)));
    }

    [Fact]
    public async Task Max_tokens_cuts_the_reply_with_finish_reason_length()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (_, json, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(maxTokens: 10)));

        Assert.Equal("length", (string?)json!["choices"]![0]!["finish_reason"]);
        Assert.Equal(10, (int)json["usage"]!["completion_tokens"]!);
    }

    [Theory]
    [InlineData("/openai/v1", "reasoning_content")]
    [InlineData("/aihubmix/v1", "reasoning_content")]
    [InlineData("/openrouter/api/v1", "reasoning")]
    public async Task Reasoning_fault_streams_reasoning_deltas_before_content(string root, string field)
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var model = root.StartsWith("/openrouter") ? "deepseek/deepseek-reasoner" : "deepseek-reasoner";
        var (_, events) = await StreamAsync(OpenAIRequest(mock.BaseUrl + root + "/chat/completions", Chat(model: model, stream: true), fault: "reasoning"));

        var chunks = Chunks(events);
        var firstReasoning = chunks.FindIndex(c => c["choices"]![0]!["delta"]![field] is not null);
        var firstContent = chunks.FindIndex(c => ((string?)c["choices"]![0]!["delta"]!["content"])?.Length > 0);
        Assert.InRange(firstReasoning, 1, firstContent - 1);
    }

    [Fact]
    public async Task Malformed_json_is_400_with_openai_error_body()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", null, rawBody: "{\"model\": \"gpt-4o\", "));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = json!["error"]!.AsObject();
        Assert.Equal(["message", "type", "param", "code"], error.Select(p => p.Key));
        Assert.StartsWith("We could not parse the JSON body of your request.", (string?)error["message"]);
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Null(error["code"]);
    }

    [Fact]
    public async Task Missing_model_is_400_and_unknown_model_is_404_model_not_found()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (missing, missingJson, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", new { messages = new[] { new { role = "user", content = "hi" } } }));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("you must provide a model parameter", (string?)missingJson!["error"]!["message"]);

        var (unknown, unknownJson, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(model: "gpt-9-imaginary")));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("model_not_found", (string?)unknownJson!["error"]!["code"]);
        Assert.Equal("The model `gpt-9-imaginary` does not exist or you do not have access to it.", (string?)unknownJson["error"]!["message"]);

        // OpenRouter ids carry the vendor, and its error code is the HTTP status as a number.
        var (plain, plainJson, _) = await SendAsync(OpenAIRequest(mock.OpenRouterUrl + "/chat/completions", Chat(model: "gpt-4o")));
        Assert.Equal(HttpStatusCode.NotFound, plain.StatusCode);
        Assert.Equal(404, (int)plainJson!["error"]!["code"]!);
        var (vendor, _, _) = await SendAsync(OpenAIRequest(mock.OpenRouterUrl + "/chat/completions", Chat(model: "openai/gpt-4o")));
        Assert.Equal(HttpStatusCode.OK, vendor.StatusCode);
    }

    [Fact]
    public async Task Missing_key_is_401()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(), key: null));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_request_error", (string?)json!["error"]!["type"]);
    }

    [Fact]
    public async Task Requests_are_recorded_with_path_headers_body_and_key()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat("recorded")));
        await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat("again"), key: "sk-other"));

        var first = mock.State.Received[0];
        Assert.Equal("/openai/v1/chat/completions", first.Path);
        Assert.Equal("POST", first.Method);
        Assert.Equal(Key, first.ApiKey);
        Assert.Contains("recorded", first.Body);
        Assert.Equal("Bearer " + Key, first.Headers["authorization"]);
        Assert.Equal(1, mock.State.CountFor(Key));
        Assert.Equal(1, mock.State.CountFor("sk-other"));
        mock.State.Clear();
        Assert.Empty(mock.State.Received);
        Assert.Equal(0, mock.State.CountFor(Key));
    }

    [Fact]
    public async Task Official_OpenAI_client_reads_a_non_streaming_reply()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var client = new ChatClient("gpt-4o", new ApiKeyCredential(Key), new OpenAIClientOptions { Endpoint = new Uri(mock.OpenAIUrl) });

        ChatCompletion completion = await client.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("Hello from the SDK")]);

        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.StartsWith("You said: \"Hello from the SDK\"", completion.Content[0].Text);
        Assert.Equal(60, completion.Usage.OutputTokenCount);
        Assert.True(completion.Usage.InputTokenCount > 0);
    }

    [Fact]
    public async Task Official_OpenAI_client_reads_a_streaming_reply_with_usage()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var client = new ChatClient("gpt-4o", new ApiKeyCredential(Key), new OpenAIClientOptions { Endpoint = new Uri(mock.OpenAIUrl) });

        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Stream to the SDK")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.StartsWith("You said: \"Stream to the SDK\"", text.ToString());
        Assert.Contains("日本語", text.ToString());
        Assert.NotNull(usage);
        Assert.Equal(60, usage.OutputTokenCount);
        var sent = JsonNode.Parse(mock.State.Received.Single().Body)!;
        Assert.True((bool)sent["stream"]!);
    }

    [Fact]
    public async Task Official_OpenAI_client_copes_with_torn_crlf_streams_full_of_comments_and_empty_chunks()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var client = new ChatClient("gpt-4o", new ApiKeyCredential(Key), new OpenAIClientOptions { Endpoint = new Uri(mock.OpenAIUrl) });

        var text = new System.Text.StringBuilder();
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("quirks mock:fault=split,crlf,comments,empty_choices")]))
            foreach (var part in update.ContentUpdate) text.Append(part.Text);

        var (_, whole, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat("quirks mock:fault=split,crlf,comments,empty_choices")));
        Assert.Equal((string?)whole!["choices"]![0]!["message"]!["content"], text.ToString());
    }

    [Fact]
    public async Task Official_OpenAI_client_reports_the_status_of_an_error_body()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var client = new ChatClient("gpt-4o", new ApiKeyCredential("sk-mock-fault=401-x"), new OpenAIClientOptions { Endpoint = new Uri(mock.OpenAIUrl) });

        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(401, error.Status);
        Assert.Contains("Incorrect API key provided", error.Message);
    }
}
