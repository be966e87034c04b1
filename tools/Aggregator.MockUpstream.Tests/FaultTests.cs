using System.Diagnostics;
using System.Net;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.MockUpstream;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using static Aggregator.MockUpstream.Tests.MockCalls;

namespace Aggregator.MockUpstream.Tests;

public class FaultTests
{
    [Theory]
    [InlineData("401", 401, "invalid_request_error", "invalid_api_key")]
    [InlineData("403", 403, "request_forbidden", "unsupported_country_region_territory")]
    [InlineData("404", 404, "invalid_request_error", "model_not_found")]
    [InlineData("429", 429, "requests", "rate_limit_exceeded")]
    [InlineData("insufficient_quota", 429, "insufficient_quota", "insufficient_quota")]
    [InlineData("500", 500, "server_error", null)]
    [InlineData("503", 503, "server_error", null)]
    [InlineData("529", 529, "server_error", null)]
    public async Task Http_error_faults_answer_with_openai_status_and_body(string fault, int status, string type, string? code)
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(), fault: fault));

        Assert.Equal(status, (int)response.StatusCode);
        var error = json!["error"]!;
        Assert.Equal(type, (string?)error["type"]);
        Assert.Equal(code, (string?)error["code"]);
        Assert.False(string.IsNullOrEmpty((string?)error["message"]));
    }

    [Theory]
    [InlineData("401", 401, "authentication_error")]
    [InlineData("403", 403, "permission_error")]
    [InlineData("404", 404, "not_found_error")]
    [InlineData("429", 429, "rate_limit_error")]
    [InlineData("insufficient_quota", 402, "billing_error")]
    [InlineData("500", 500, "api_error")]
    [InlineData("529", 529, "overloaded_error")]
    public async Task Http_error_faults_answer_with_anthropic_status_and_body(string fault, int status, string type)
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(AnthropicRequest(mock.AnthropicUrl + "/messages", Messages(), fault: fault));

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("error", (string?)json!["type"]);
        Assert.Equal(type, (string?)json["error"]!["type"]);
        Assert.StartsWith("req_", (string?)json["request_id"]);
    }

    [Fact]
    public async Task Rate_limit_fault_sends_retry_after_seconds()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, _, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(), fault: "429:2"));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter!.Delta);
    }

    [Fact]
    public async Task OpenRouter_errors_carry_the_status_as_a_numeric_code()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(OpenAIRequest(mock.OpenRouterUrl + "/chat/completions", Chat(model: "openai/gpt-4o"), fault: "429"));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(JsonValueKind.Number, json!["error"]!["code"]!.GetValueKind());
        Assert.Equal(429, (int)json["error"]!["code"]!);
    }

    [Fact]
    public async Task Fault_sources_are_header_then_prompt_then_key_setting_then_key_text()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var url = mock.OpenAIUrl + "/chat/completions";

        var (byHeader, _, _) = await SendAsync(OpenAIRequest(url, Chat("mock:fault=500"), fault: "403"));
        Assert.Equal(HttpStatusCode.Forbidden, byHeader.StatusCode);

        var (byPrompt, _, _) = await SendAsync(OpenAIRequest(url, Chat("please fail mock:fault=500")));
        Assert.Equal(HttpStatusCode.InternalServerError, byPrompt.StatusCode);

        mock.State.SetKeyFault("sk-flaky", "503");
        var (byKey, _, _) = await SendAsync(OpenAIRequest(url, Chat(), key: "sk-flaky"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, byKey.StatusCode);
        var (promptBeatsKey, _, _) = await SendAsync(OpenAIRequest(url, Chat("mock:fault=403"), key: "sk-flaky"));
        Assert.Equal(HttpStatusCode.Forbidden, promptBeatsKey.StatusCode);
        mock.State.ClearKeyFault("sk-flaky");
        var (cleared, _, _) = await SendAsync(OpenAIRequest(url, Chat(), key: "sk-flaky"));
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);

        var (byKeyText, _, _) = await SendAsync(OpenAIRequest(url, Chat(), key: "sk-mock-fault=401-a"));
        Assert.Equal(HttpStatusCode.Unauthorized, byKeyText.StatusCode);
        Assert.Equal(1, mock.State.CountFor("sk-mock-fault=401-a"));
    }

    [Fact]
    public async Task Hang_never_answers_until_the_client_gives_up()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(700));
        var watch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Http.SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(), fault: "hang"), timeout.Token));
        Assert.True(watch.ElapsedMilliseconds >= 600);
    }

    [Fact]
    public async Task Reset_aborts_the_connection_before_any_byte()
    {
        await using var mock = await MockUpstreamServer.StartAsync();

        await Assert.ThrowsAsync<HttpRequestException>(() =>
            Http.SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(stream: true), fault: "reset")));
    }

    [Fact]
    public async Task Drop_after_streams_n_content_chunks_then_breaks_the_connection()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        using var response = await Http.SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(stream: true), fault: "drop_after:5"),
            HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var received = new List<SseItem<string>>();

        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            await foreach (var item in SseParser.Create(body).EnumerateAsync()) received.Add(item);
        });
        Assert.Equal(5, ContentChunkCount(Chunks(received)));
        Assert.DoesNotContain(received, e => e.Data == "[DONE]");
    }

    [Fact]
    public async Task Error_event_sends_an_openai_error_object_mid_stream()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, events) = await StreamAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(stream: true), fault: "error_event"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var last = JsonNode.Parse(events[^1].Data)!;
        Assert.Equal("server_error", (string?)last["error"]!["type"]);
        Assert.Null(last["choices"]);
        Assert.Equal(3, ContentChunkCount(Chunks(events.SkipLast(1))));
    }

    [Fact]
    public async Task Error_event_openrouter_sends_top_level_error_and_finish_reason_error()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, events) = await StreamAsync(OpenAIRequest(mock.OpenRouterUrl + "/chat/completions", Chat(model: "openai/gpt-4o", stream: true), fault: "error_event_openrouter"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var last = JsonNode.Parse(events[^1].Data)!;
        Assert.NotNull(last["error"]!["message"]);
        Assert.Equal("error", (string?)last["choices"]![0]!["finish_reason"]);
        Assert.DoesNotContain(events, e => e.Data == "[DONE]");
    }

    [Fact]
    public async Task Error_200_answers_ok_with_an_error_body_before_any_token()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (plain, json, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(), fault: "error_200"));
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.NotNull(json!["error"]!["message"]);
        Assert.Null(json["choices"]);

        var (streamed, events) = await StreamAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(stream: true), fault: "error_200"));
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        Assert.NotNull(JsonNode.Parse(Assert.Single(events).Data)!["error"]);

        var (raw, rawJson, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(stream: true), fault: "error_200_raw"));
        Assert.Equal("text/event-stream", raw.Content.Headers.ContentType!.MediaType);
        Assert.NotNull(rawJson!["error"]);
    }

    [Fact]
    public async Task Split_streams_still_parse_to_the_same_reply_over_the_network()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var url = mock.OpenAIUrl + "/chat/completions";
        var (normal, _) = await RawAsync(OpenAIRequest(url, Chat(stream: true)));
        var (split, _) = await RawAsync(OpenAIRequest(url, Chat(stream: true), fault: "split"));

        var splitContent = ContentOf(Chunks(await ParseAsync(split)));
        Assert.Equal(ContentOf(Chunks(await ParseAsync(normal))), splitContent);
        Assert.Contains("日本語", splitContent);
    }

    [Fact]
    public async Task Split_writes_every_frame_in_flushed_pieces_of_one_to_seven_bytes_tearing_utf8_characters()
    {
        // Byte-level: record the writes themselves (TCP may coalesce them before a client sees them).
        var body = new WriteRecorder();
        var http = new DefaultHttpContext();
        http.Response.Body = body;
        http.Request.Method = "POST";
        http.Request.Path = "/openai/v1/chat/completions";
        http.Request.Headers.Authorization = "Bearer " + Key;
        http.Request.Headers[MockFaults.Header] = "split";
        http.Request.Body = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(Chat(stream: true)));
        var state = new MockUpstreamState(Options.Create(new MockUpstreamOptions()));

        await OpenAIChat.HandleAsync(http, MockRoot.OpenAI, state);

        Assert.True(body.Writes.Count > 500, $"{body.Writes.Count} writes");
        Assert.All(body.Writes, w => Assert.InRange(w.Length, 1, 7));
        Assert.True(body.FlushesAfterWrites >= body.Writes.Count);
        Assert.Contains(body.Writes.Skip(1), w => w[0] is >= 0x80 and < 0xC0); // a piece starting mid-character
        var content = ContentOf(Chunks(await ParseAsync([.. body.Writes.SelectMany(w => w)])));
        Assert.StartsWith("You said:", content);
        Assert.Contains("日本語", content);
    }

    sealed class WriteRecorder : MemoryStream
    {
        public List<byte[]> Writes { get; } = [];
        public int FlushesAfterWrites { get; private set; }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes.Add(buffer.ToArray());
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Writes.Add(buffer[offset..(offset + count)]);
            return Task.CompletedTask;
        }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            if (Writes.Count > 0) FlushesAfterWrites++;
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Comments_crlf_and_empty_choices_are_legal_sse_a_parser_must_cope_with()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var request = OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(stream: true), fault: "comments,crlf,empty_choices");
        var (bytes, _) = await RawAsync(request);
        var text = Encoding.UTF8.GetString(bytes);

        Assert.StartsWith(": OPENROUTER PROCESSING\r\n\r\n", text);
        Assert.DoesNotContain("\n", text.Replace("\r\n", ""));
        var chunks = Chunks(await ParseAsync(bytes));
        Assert.Empty(chunks[0]["choices"]!.AsArray());
        Assert.True(chunks.Count(c => c["choices"]!.AsArray().Count == 0) >= 2);
        Assert.StartsWith("You said:", ContentOf(chunks));
    }

    [Fact]
    public async Task No_done_and_no_finish_end_the_stream_early()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (_, events) = await StreamAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(stream: true), fault: "no_done,no_finish"));

        Assert.DoesNotContain(events, e => e.Data == "[DONE]");
        Assert.All(Chunks(events), c => Assert.Null((string?)c["choices"]![0]!["finish_reason"]));
        Assert.Equal(60, ContentChunkCount(Chunks(events)));
    }

    [Theory]
    [InlineData("usage_missing", true, false, false)]
    [InlineData("usage_last_only", false, true, false)]
    [InlineData("usage_on_finish", true, false, true)]
    public async Task Usage_quirks_move_or_drop_the_usage(string fault, bool includeUsage, bool expectUsageChunk, bool expectOnFinish)
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (_, events) = await StreamAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(stream: true, includeUsage: includeUsage), fault: fault));
        var chunks = Chunks(events);

        var withUsage = chunks.Where(c => c["usage"] is JsonObject).ToList();
        Assert.Equal(expectUsageChunk || expectOnFinish ? 1 : 0, withUsage.Count);
        if (expectUsageChunk) Assert.Empty(withUsage[0]["choices"]!.AsArray());
        if (expectOnFinish) Assert.Equal("stop", (string?)withUsage[0]["choices"]![0]!["finish_reason"]);
        if (withUsage.Count == 1) Assert.Same(chunks[^1], withUsage[0]);
    }

    [Fact]
    public async Task Numbers_as_strings_and_leading_blank_lines_reshape_the_json_body()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (_, json, text) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(), fault: "numbers_as_strings,leading_blank_lines"));

        Assert.StartsWith("\n\n", text);
        Assert.Equal(JsonValueKind.String, json!["created"]!.GetValueKind());
        Assert.Equal("60", (string?)json["usage"]!["completion_tokens"]);
    }

    [Fact]
    public async Task Slow_delays_every_token()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var watch = Stopwatch.StartNew();
        var (_, events) = await StreamAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat("mock:tokens=10", stream: true), fault: "slow:30"));

        Assert.Equal(10, ContentChunkCount(Chunks(events)));
        Assert.True(watch.ElapsedMilliseconds >= 280, $"{watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Garbage_answers_200_with_a_body_that_is_not_json()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, text) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(), fault: "garbage"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(json);
        Assert.Contains("<html>", text);
    }

    [Fact]
    public async Task Huge_answers_about_ten_megabytes()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, text) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(), fault: "huge"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.InRange(text.Length, 10_000_000, 12_000_000);
        Assert.Equal(10_240, (int)json!["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task Endless_streams_a_token_every_100_ms_until_the_client_leaves()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        using var response = await Http.SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat("mock:tokens=3", stream: true), fault: "endless"),
            HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(800));
        var received = new List<SseItem<string>>();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var item in SseParser.Create(body).EnumerateAsync(stop.Token)) received.Add(item);
        });
        Assert.InRange(ContentChunkCount(Chunks(received)), 2, 9);
        Assert.DoesNotContain(received, e => e.Data == "[DONE]");
    }

    [Fact]
    public async Task Anthropic_stream_faults_drop_and_error_events()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (_, events) = await StreamAsync(AnthropicRequest(mock.AnthropicUrl + "/messages", Messages(stream: true), fault: "error_event"));

        Assert.Equal("error", events[^1].EventType);
        Assert.Equal("overloaded_error", (string?)JsonNode.Parse(events[^1].Data)!["error"]!["type"]);
        Assert.Equal(3, events.Count(e => e.EventType == "content_block_delta"));

        var (bytes, _) = await RawAsync(AnthropicRequest(mock.AnthropicUrl + "/messages", Messages(stream: true), fault: "split,crlf,usage_missing"));
        var parsed = await ParseAsync(bytes);
        Assert.Equal("message_stop", parsed[^1].EventType);
        Assert.Null(JsonNode.Parse(parsed.Single(e => e.EventType == "message_delta").Data)!["usage"]);
    }

    static async Task<List<SseItem<string>>> ParseAsync(byte[] bytes)
    {
        var items = new List<SseItem<string>>();
        await foreach (var item in SseParser.Create(new MemoryStream(bytes)).EnumerateAsync()) items.Add(item);
        return items;
    }
}
