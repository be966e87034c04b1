using System.Diagnostics;
using System.Net;
using Aggregator.MockUpstream;
using static Aggregator.MockUpstream.Tests.MockCalls;

namespace Aggregator.MockUpstream.Tests;

/// <summary>The hostile gateway: <c>echo_key</c> and <c>echo_key_fragment</c> put the key in every kind of error text.</summary>
public class KeyEchoTests
{
    const string Secret = "sk-echo-0123456789abcdefWXYZ";

    [Theory]
    [InlineData("401")]
    [InlineData("429")]
    [InlineData("500")]
    [InlineData("504")]
    [InlineData("insufficient_quota")]
    public async Task Echo_key_puts_the_whole_key_in_the_error_body_and_the_status_line(string fault)
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(), key: Secret, fault: fault + ",echo_key"));

        Assert.False(response.IsSuccessStatusCode);
        Assert.Contains(Secret, (string?)json!["error"]!["message"]);
        Assert.Contains(Secret, response.ReasonPhrase);
    }

    [Fact]
    public async Task Without_echo_the_401_text_masks_the_key_as_before()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (_, json, text) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(), key: Secret, fault: "401"));

        Assert.DoesNotContain(Secret, text);
        Assert.Contains("sk-e***WXYZ", (string?)json!["error"]!["message"]);
    }

    [Fact]
    public async Task Echo_key_fragment_sends_recognisable_pieces_but_never_the_whole_key()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, text) = await SendAsync(AnthropicRequest(mock.AnthropicUrl + "/messages", Messages(), key: Secret, fault: "401,echo_key_fragment"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var message = (string?)json!["error"]!["message"];
        Assert.Contains("sk-ech…WXYZ", message);
        Assert.Contains("***WXYZ", message);
        Assert.Contains(Secret[4..14], message);
        Assert.DoesNotContain(Secret, text);
        Assert.Contains("sk-ech...WXYZ", response.ReasonPhrase);
    }

    [Fact]
    public async Task A_gateway_timeout_answers_504_after_the_wait_with_the_key_in_its_text()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var watch = Stopwatch.StartNew();
        var (response, json, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(), key: Secret, fault: "504:300,echo_key"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.True(watch.ElapsedMilliseconds >= 300, $"answered after {watch.ElapsedMilliseconds} ms");
        Assert.Equal("gateway_timeout", (string?)json!["error"]!["code"]);
        Assert.Contains(Secret, (string?)json["error"]!["message"]);
    }

    [Fact]
    public async Task Mid_stream_error_events_echo_the_key_in_both_formats()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (_, openAI) = await StreamAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", Chat(stream: true), key: Secret, fault: "error_event,echo_key"));
        var (_, openRouter) = await StreamAsync(OpenAIRequest(mock.OpenRouterUrl + "/chat/completions", Chat(model: "openai/gpt-4o", stream: true), key: Secret,
            fault: "error_event_openrouter,echo_key"));
        var (_, anthropic) = await StreamAsync(AnthropicRequest(mock.AnthropicUrl + "/messages", Messages(stream: true), key: Secret, fault: "error_event,echo_key"));

        Assert.Contains(Secret, openAI[^1].Data);
        Assert.Contains("\"error\"", openAI[^1].Data);
        Assert.Contains(Secret, openRouter[^1].Data);
        Assert.Equal("error", anthropic[^1].EventType);
        Assert.Contains(Secret, anthropic[^1].Data);
    }

    [Fact]
    public async Task Model_lists_and_the_one_model_probe_echo_the_key_too()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (openAI, _, openAIText) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/models", null, key: Secret, fault: "401,echo_key"));
        var (probe, _, probeText) = await SendAsync(AnthropicRequest(mock.AnthropicUrl + "/models?limit=1", null, key: Secret, fault: "401,echo_key"));
        var (error200, _, error200Text) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/models", null, key: Secret, fault: "error_200,echo_key"));

        Assert.Equal(HttpStatusCode.Unauthorized, openAI.StatusCode);
        Assert.Contains(Secret, openAIText);
        Assert.Equal(HttpStatusCode.Unauthorized, probe.StatusCode);
        Assert.Contains(Secret, probeText);
        Assert.Equal(HttpStatusCode.OK, error200.StatusCode);
        Assert.Contains(Secret, error200Text);
    }
}
