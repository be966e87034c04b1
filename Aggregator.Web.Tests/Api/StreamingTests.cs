using System.Net;
using System.Text.Json;

namespace Aggregator.Web.Tests.Api;

/// <summary>The SSE stream byte for byte as OpenAI sends it, and how a failure mid-stream ends it.</summary>
public sealed class StreamingTests(ApiTestApp app) : IClassFixture<ApiTestApp>
{
    static List<string> Events(string body) =>
        body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => Assert.Single(e.Split('\n'))).ToList();

    [Fact]
    public async Task A_stream_is_role_chunk_content_chunks_finish_chunk_usage_chunk_then_done()
    {
        var user = await app.UserAsync();
        var client = app.Api((await app.TokenAsync(user)).Secret);
        var response = await client.PostAsync("/v1/chat/completions",
            ApiTestApp.Chat("mock/gpt-4o-mini", "stream mock:tokens=4", stream: true, extra: ""","stream_options":{"include_usage":true}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        var events = Events(await response.Content.ReadAsStringAsync());
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var content = chunks[1..^2].Select(c => c.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString()).ToList();
        Assert.Equal(4, content.Count);
        Assert.StartsWith("You said", string.Concat(content));
        var finish = chunks[^2].GetProperty("choices")[0];
        Assert.Equal("stop", finish.GetProperty("finish_reason").GetString());
        Assert.Empty(finish.GetProperty("delta").EnumerateObject());
        var usage = chunks[^1];
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        Assert.Equal(4, usage.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task The_api_is_never_compressed_even_when_the_client_accepts_it()
    {
        var user = await app.UserAsync();
        var client = app.Api((await app.TokenAsync(user)).Secret);
        foreach (var stream in new[] { true, false })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            { Content = ApiTestApp.Chat("mock/gpt-4o-mini", "mock:tokens=3", stream) };
            request.Headers.AcceptEncoding.ParseAdd("br, gzip");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Empty(response.Content.Headers.ContentEncoding);
        }
        using var models = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        models.Headers.AcceptEncoding.ParseAdd("br, gzip");
        using var list = await client.SendAsync(models);
        Assert.Empty(list.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task Without_include_usage_there_is_no_usage_chunk()
    {
        var user = await app.UserAsync();
        var client = app.Api((await app.TokenAsync(user)).Secret);
        var events = Events(await (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "mock:tokens=2", stream: true))).Content.ReadAsStringAsync());
        Assert.Equal("data: [DONE]", events[^1]);
        Assert.All(events[..^1], e => Assert.Equal(1, JsonDocument.Parse(e["data: ".Length..]).RootElement.GetProperty("choices").GetArrayLength()));
    }

    [Fact]
    public async Task A_failure_after_the_first_token_ends_the_stream_with_an_error_event_and_no_done()
    {
        var user = await app.UserAsync();
        var client = app.Api((await app.TokenAsync(user)).Secret);
        var response = await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "mock:fault=error_event", stream: true));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = Events(await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain("data: [DONE]", events);
        var last = JsonDocument.Parse(events[^1]["data: ".Length..]).RootElement;
        Assert.Equal(JsonValueKind.String, last.GetProperty("error").GetProperty("message").ValueKind);
        Assert.True(events.Count >= 2, "content before the failure");
    }

    [Fact]
    public async Task A_refusal_before_the_stream_starts_keeps_its_http_status()
    {
        var user = await app.UserAsync();
        var client = app.Api((await app.TokenAsync(user)).Secret);
        var response = await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o", "hi", stream: true));
        await response.ErrorAsync(403);
    }
}
