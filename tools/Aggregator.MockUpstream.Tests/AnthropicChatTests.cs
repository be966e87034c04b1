using System.Net;
using System.Text.Json.Nodes;
using Aggregator.MockUpstream;
using static Aggregator.MockUpstream.Tests.MockCalls;

namespace Aggregator.MockUpstream.Tests;

public class AnthropicChatTests
{
    [Fact]
    public async Task Streaming_sends_the_named_events_in_order_with_usage_and_stop_reason()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, events) = await StreamAsync(AnthropicRequest(mock.AnthropicUrl + "/messages", Messages(stream: true)));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var names = events.Select(e => e.EventType).ToList();
        Assert.Equal(["message_start", "content_block_start", "ping"], names[..3]);
        Assert.Equal(["content_block_stop", "message_delta", "message_stop"], names[^3..]);
        Assert.All(names[3..^3], n => Assert.Equal("content_block_delta", n));
        Assert.DoesNotContain(events, e => e.Data == "[DONE]");
        // Each event's data carries its own name as "type".
        Assert.All(events, e => Assert.Equal(e.EventType, (string?)JsonNode.Parse(e.Data)!["type"]));

        var start = JsonNode.Parse(events[0].Data)!["message"]!;
        Assert.Equal("assistant", (string?)start["role"]);
        Assert.Empty(start["content"]!.AsArray());
        Assert.Null(start["stop_reason"]);
        Assert.Equal((int)Math.Ceiling(("Be brief.".Length + "Hello mock".Length) / 4.0), (int)start["usage"]!["input_tokens"]!);
        Assert.Equal("text", (string?)JsonNode.Parse(events[1].Data)!["content_block"]!["type"]);

        var deltas = events.Where(e => e.EventType == "content_block_delta").Select(e => JsonNode.Parse(e.Data)!).ToList();
        Assert.All(deltas, d => Assert.Equal("text_delta", (string?)d["delta"]!["type"]));
        Assert.StartsWith("You said: \"Hello mock\"", string.Concat(deltas.Select(d => (string)d["delta"]!["text"]!)));

        var messageDelta = JsonNode.Parse(events[^2].Data)!;
        Assert.Equal("end_turn", (string?)messageDelta["delta"]!["stop_reason"]);
        Assert.Equal(deltas.Count, (int)messageDelta["usage"]!["output_tokens"]!);
    }

    [Fact]
    public async Task Non_streaming_reply_is_a_message_with_text_content_and_usage()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(AnthropicRequest(mock.AnthropicUrl + "/messages", Messages()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.Contains("request-id"));
        Assert.Equal("message", (string?)json!["type"]);
        Assert.StartsWith("msg_", (string?)json["id"]);
        Assert.Equal("claude-sonnet-4-5", (string?)json["model"]);
        Assert.Equal("end_turn", (string?)json["stop_reason"]);
        Assert.Equal("text", (string?)json["content"]![0]!["type"]);
        Assert.Contains("```python", (string?)json["content"]![0]!["text"]);
        Assert.Equal(60, (int)json["usage"]!["output_tokens"]!);
    }

    [Fact]
    public async Task Max_tokens_cuts_the_reply_with_stop_reason_max_tokens()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (_, events) = await StreamAsync(AnthropicRequest(mock.AnthropicUrl + "/messages", Messages(stream: true, maxTokens: 5)));

        Assert.Equal(5, events.Count(e => e.EventType == "content_block_delta"));
        var messageDelta = JsonNode.Parse(events.Single(e => e.EventType == "message_delta").Data)!;
        Assert.Equal("max_tokens", (string?)messageDelta["delta"]!["stop_reason"]);
        Assert.Equal(5, (int)messageDelta["usage"]!["output_tokens"]!);
    }

    [Fact]
    public async Task Reasoning_fault_streams_a_thinking_block_before_the_text_block()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (_, events) = await StreamAsync(AnthropicRequest(mock.AnthropicUrl + "/messages", Messages("think mock:fault=reasoning", stream: true)));

        var starts = events.Where(e => e.EventType == "content_block_start").Select(e => JsonNode.Parse(e.Data)!).ToList();
        Assert.Equal(["thinking", "text"], starts.Select(s => (string)s["content_block"]!["type"]!));
        Assert.Equal([0, 1], starts.Select(s => (int)s["index"]!));
        var deltaTypes = events.Where(e => e.EventType == "content_block_delta").Select(e => (string)JsonNode.Parse(e.Data)!["delta"]!["type"]!).Distinct();
        Assert.Equal(["thinking_delta", "signature_delta", "text_delta"], deltaTypes);
    }

    [Fact]
    public async Task Missing_max_tokens_is_400_invalid_request_error()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(AnthropicRequest(mock.AnthropicUrl + "/messages", Messages(maxTokens: null)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("error", (string?)json!["type"]);
        Assert.Equal("invalid_request_error", (string?)json["error"]!["type"]);
        Assert.Equal("max_tokens: Field required", (string?)json["error"]!["message"]);
        Assert.StartsWith("req_", (string?)json["request_id"]);
    }

    [Fact]
    public async Task Bad_requests_get_anthropic_status_codes_and_error_types()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var url = mock.AnthropicUrl + "/messages";

        var (noKey, noKeyJson, _) = await SendAsync(AnthropicRequest(url, Messages(), key: null));
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Equal("authentication_error", (string?)noKeyJson!["error"]!["type"]);

        var (noVersion, noVersionJson, _) = await SendAsync(AnthropicRequest(url, Messages(), version: false));
        Assert.Equal(HttpStatusCode.BadRequest, noVersion.StatusCode);
        Assert.Equal("invalid_request_error", (string?)noVersionJson!["error"]!["type"]);

        var (badJson, badJsonBody, _) = await SendAsync(AnthropicRequest(url, null, rawBody: "{not json"));
        Assert.Equal(HttpStatusCode.BadRequest, badJson.StatusCode);
        Assert.Equal("invalid_request_error", (string?)badJsonBody!["error"]!["type"]);

        var (noModel, noModelJson, _) = await SendAsync(AnthropicRequest(url, new { max_tokens = 10, messages = new[] { new { role = "user", content = "hi" } } }));
        Assert.Equal(HttpStatusCode.BadRequest, noModel.StatusCode);
        Assert.Equal("model: Field required", (string?)noModelJson!["error"]!["message"]);

        var (unknown, unknownJson, _) = await SendAsync(AnthropicRequest(url, Messages(model: "claude-imaginary-9")));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("not_found_error", (string?)unknownJson!["error"]!["type"]);
        Assert.Equal("model: claude-imaginary-9", (string?)unknownJson["error"]!["message"]);

        var (notClaude, _, _) = await SendAsync(AnthropicRequest(url, Messages(model: "gpt-4o")));
        Assert.Equal(HttpStatusCode.NotFound, notClaude.StatusCode);
    }
}
