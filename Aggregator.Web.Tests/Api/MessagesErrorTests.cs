extern alias AnthropicSdk;
using System.Net;
using System.Text.Json;
using AnthropicSdk::Anthropic.Exceptions;
using AnthropicSdk::Anthropic.Models.Messages;

namespace Aggregator.Web.Tests.Api;

/// <summary>/v1/messages refusals and failures in Anthropic's error shape and status; /v1/chat/completions keeps OpenAI's.</summary>
public sealed class MessagesErrorTests(MessagesTestApp app) : IClassFixture<MessagesTestApp>
{
    [Fact]
    public async Task No_token_or_a_bad_one_is_an_anthropic_authentication_error()
    {
        await app.SecretAsync();
        var none = await app.Messages(null).PostAsync("/v1/messages", MessagesTestApp.Message(MessagesTestApp.Translated, "hi"));
        Assert.Contains("API token", (await none.AnthropicErrorAsync(401, "authentication_error")).GetProperty("message").GetString());
        var bad = await app.Messages("agg-" + new string('x', 43)).PostAsync("/v1/messages", MessagesTestApp.Message(MessagesTestApp.Translated, "hi"));
        await bad.AnthropicErrorAsync(401, "authentication_error");

        // The same refusal on the OpenAI endpoint stays in OpenAI's shape.
        var openAI = await app.Messages("agg-" + new string('x', 43)).PostAsync("/v1/chat/completions", ApiTestApp.Chat(MessagesTestApp.Translated, "hi"));
        var error = await openAI.ErrorAsync(401);
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task The_official_client_sees_a_bad_token_as_its_unauthorized_exception()
    {
        var client = app.Anthropic("agg-" + new string('y', 43));
        var ex = await Assert.ThrowsAsync<AnthropicUnauthorizedException>(() => client.Messages.Create(new MessageCreateParams
        {
            Model = MessagesTestApp.Translated, MaxTokens = 10, Messages = [new UserMessageParam("hi")],
        }));
        Assert.Contains("not valid", ex.Message);
    }

    [Fact]
    public async Task A_model_outside_the_tier_or_the_allow_list_is_a_permission_error()
    {
        var secret = await app.SecretAsync(allowed: "claude/*");
        var client = app.Messages(secret);
        var refused = await client.PostAsync("/v1/messages", MessagesTestApp.Message(MessagesTestApp.Translated, "hi"));
        Assert.Contains("not allowed", (await refused.AnthropicErrorAsync(403, "permission_error")).GetProperty("message").GetString());
        var pro = await client.PostAsync("/v1/messages", MessagesTestApp.Message("mock/gpt-4o", "hi"));
        await pro.AnthropicErrorAsync(403, "permission_error");
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/messages", MessagesTestApp.Message(MessagesTestApp.Native, "hi mock:tokens=2"))).StatusCode);
    }

    [Fact]
    public async Task An_unknown_model_or_endpoint_is_a_not_found_error()
    {
        var client = app.Messages(await app.SecretAsync());
        var unknown = await client.PostAsync("/v1/messages", MessagesTestApp.Message("nobody/nothing", "hi"));
        Assert.Contains("nobody/nothing", (await unknown.AnthropicErrorAsync(404, "not_found_error")).GetProperty("message").GetString());
        var batches = await client.PostAsync("/v1/messages/batches", ApiTestApp.Json("{}"));
        await batches.AnthropicErrorAsync(404, "not_found_error");
        await (await client.GetAsync("/v1/messages")).AnthropicErrorAsync(404, "not_found_error");
        // Outside /v1/messages the API speaks OpenAI's shape.
        await (await client.GetAsync("/v1/nothing-here")).ErrorAsync(404);
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("""{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", "model: Field required")]
    [InlineData("""{"model":"mock/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", "max_tokens: Field required")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}""", "max_tokens:")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10}""", "messages: Field required")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[]}""", "messages:")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":"hi"}""", "messages:")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"wizard","content":"hi"}]}""", "messages.0.role")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":42}]}""", "messages.0.content")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":[{"text":"no type"}]}]}""", "messages.0.content.0.type")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":7}]}]}""", "messages.0.content.0.text")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/tiff","data":"AAAA"}}]}]}""", "messages.0.content.0.source.media_type")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"not base64!"}}]}]}""", "messages.0.content.0.source.data")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"ftp://x"}}]}]}""", "messages.0.content.0.source.url")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":[{"type":"tool_result","content":"x"}]}]}""", "messages.0.content.0.tool_use_id")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","is_error":"yes"}]}]}""", "messages.0.content.0.is_error")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":"{}"}]}]}""", "messages.0.content.0.input")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"system":5}""", "system:")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"stream":"yes"}""", "stream:")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"temperature":1.5}""", "temperature:")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"top_p":"high"}""", "top_p:")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"top_k":-1}""", "top_k:")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"stop_sequences":"END"}""", "stop_sequences:")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f"}]}""", "tools.0.input_schema")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"input_schema":{}}]}""", "tools.0.name")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tool_choice":{"type":"sometimes"}}""", "tool_choice.type")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tool_choice":{"type":"tool"}}""", "tool_choice.name")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tool_choice":{"type":"auto","disable_parallel_tool_use":1}}""", "tool_choice.disable_parallel_tool_use")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":2000,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled","budget_tokens":100}}""", "thinking.budget_tokens")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":2000,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled","budget_tokens":4000}}""", "max_tokens:")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"thinking":{"budget_tokens":2000}}""", "thinking.type")]
    [InlineData("""{"model":"mock/gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"metadata":{"user_id":3}}""", "metadata.user_id")]
    public async Task A_malformed_body_is_an_invalid_request_error_naming_the_field(string body, string field)
    {
        var client = app.Messages(await app.SecretAsync());
        var error = await (await client.PostAsync("/v1/messages", ApiTestApp.Json(body))).AnthropicErrorAsync(400, "invalid_request_error");
        Assert.Contains(field, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_request_too_large()
    {
        var client = app.Messages(await app.SecretAsync());
        var huge = new string('a', 17 * 1024 * 1024);
        await (await client.PostAsync("/v1/messages", MessagesTestApp.Message(MessagesTestApp.Translated, huge))).AnthropicErrorAsync(413, "request_too_large");
    }

    [Fact]
    public async Task The_tokens_rate_limit_is_a_rate_limit_error_with_retry_after()
    {
        var client = app.Messages(await app.SecretAsync(rpm: 1));
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/messages", MessagesTestApp.Message(MessagesTestApp.Translated, "hi mock:tokens=1"))).StatusCode);
        var limited = await client.PostAsync("/v1/messages", MessagesTestApp.Message(MessagesTestApp.Translated, "hi mock:tokens=1"));
        await limited.AnthropicErrorAsync(429, "rate_limit_error");
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After");
    }

    [Theory]
    [InlineData(MessagesTestApp.Native)]
    [InlineData(MessagesTestApp.Translated)]
    public async Task Every_key_failing_is_a_502_api_error(string model)
    {
        var client = app.Messages(await app.SecretAsync());
        var response = await client.PostAsync("/v1/messages", MessagesTestApp.Message(model, "hi mock:fault=500"));
        await response.AnthropicErrorAsync(502, "api_error");
    }

    [Theory]
    [InlineData(MessagesTestApp.Native)]
    [InlineData(MessagesTestApp.Translated)]
    public async Task A_failure_after_the_stream_started_ends_it_with_an_error_event(string model)
    {
        var client = app.Messages(await app.SecretAsync());
        var response = await client.PostAsync("/v1/messages", MessagesTestApp.Message(model, "hi mock:fault=error_event", stream: true));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        var events = AnthropicResponses.Events(await response.Content.ReadAsStringAsync());
        Assert.Equal("message_start", events[0].Event);
        Assert.Contains(events, e => e.Event == "content_block_delta");
        Assert.DoesNotContain(events, e => e.Event is "message_stop" or "message_delta");
        var (name, data) = events[^1];
        Assert.Equal("error", name);
        Assert.Equal("error", data.GetProperty("type").GetString());
        Assert.Equal("api_error", data.GetProperty("error").GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(data.GetProperty("error").GetProperty("message").GetString()));
    }

    [Fact]
    public async Task The_official_client_sees_a_failure_mid_stream_as_its_sse_exception()
    {
        var client = app.Anthropic(await app.SecretAsync());
        var texts = 0;
        await Assert.ThrowsAsync<AnthropicSseException>(async () =>
        {
            await foreach (var e in client.Messages.CreateStreaming(new MessageCreateParams
                           {
                               Model = MessagesTestApp.Translated, MaxTokens = 100, Messages = [new UserMessageParam("hi mock:fault=error_event")],
                           }))
                if (e.TryPickContentBlockDelta(out _)) texts++;
        });
        Assert.True(texts > 0, "text before the failure");
    }

    [Fact]
    public async Task A_refusal_before_the_stream_starts_keeps_its_http_status()
    {
        var client = app.Messages(await app.SecretAsync());
        var response = await client.PostAsync("/v1/messages", MessagesTestApp.Message("mock/gpt-4o", "hi", stream: true));
        await response.AnthropicErrorAsync(403, "permission_error");
    }

    [Fact]
    public async Task The_raw_stream_is_named_events_exactly_as_anthropic_sends_them()
    {
        var client = app.Messages(await app.SecretAsync());
        var response = await client.PostAsync("/v1/messages", MessagesTestApp.Message(MessagesTestApp.Translated, "stream mock:tokens=3", stream: true));
        var events = AnthropicResponses.Events(await response.Content.ReadAsStringAsync());

        Assert.Equal(
            ["message_start", "ping", "content_block_start", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"],
            events.Select(e => e.Event));
        var message = events[0].Data.GetProperty("message");
        Assert.StartsWith("msg_", message.GetProperty("id").GetString());
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        Assert.Equal(0, message.GetProperty("content").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("stop_reason").ValueKind);
        Assert.True(message.GetProperty("usage").GetProperty("input_tokens").GetInt32() > 0);
        var delta = events[^2].Data;
        Assert.Equal("end_turn", delta.GetProperty("delta").GetProperty("stop_reason").GetString());
        Assert.Equal(3, delta.GetProperty("usage").GetProperty("output_tokens").GetInt32());
    }
}
