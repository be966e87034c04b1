using System.Text;
using Aggregator.Web.Upstream;
using static Aggregator.Web.Tests.Router.CannedReplies;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Protocols;

namespace Aggregator.Web.Tests.Router;

/// <summary>The adapters on canned byte streams: every quirk in WIRE-FORMATS.md, without a network.</summary>
public class StreamQuirkTests
{
    const string Expected = "Hi naïve 日本語 🚀";

    [Fact]
    public async Task OpenAI_stream_gives_content_finish_and_usage()
    {
        var r = await DecodeAsync(OpenAIAdapter.Instance, OpenAIStream);
        Assert.Equal(Expected, r.Text);
        Assert.Equal("stop", r.Finish);
        Assert.Equal(new TokenUsage(9, 2), r.Usage);
        Assert.True(r.Decoder.Ended);
    }

    [Fact]
    public async Task OpenAI_frames_split_at_every_byte_decode_identically()
    {
        var length = Encoding.UTF8.GetByteCount(OpenAIStream);
        for (var cut = 1; cut < length; cut++)
        {
            var r = await DecodeAsync(OpenAIAdapter.Instance, Split(OpenAIStream, cut));
            Assert.True(Expected == r.Text, $"cut at byte {cut}: {r.Text}");
            Assert.Equal(new TokenUsage(9, 2), r.Usage);
        }
    }

    [Fact]
    public async Task Anthropic_frames_split_at_every_byte_decode_identically()
    {
        var length = Encoding.UTF8.GetByteCount(AnthropicStream);
        for (var cut = 1; cut < length; cut++)
        {
            var r = await DecodeAsync(Anthropic, Split(AnthropicStream, cut));
            Assert.True(Expected == r.Text, $"cut at byte {cut}: {r.Text}");
            Assert.Equal("stop", r.Finish);
        }
    }

    [Fact]
    public async Task One_byte_per_read_decodes_multibyte_characters()
    {
        var bytes = Encoding.UTF8.GetBytes(OpenAIStream);
        var r = await DecodeAsync(OpenAIAdapter.Instance, new PiecesStream(bytes.Select(b => new[] { b }).ToList()));
        Assert.Equal(Expected, r.Text);
    }

    [Fact]
    public async Task Comments_crlf_bare_cr_and_data_without_space_are_tolerated()
    {
        var quirky = ": OPENROUTER PROCESSING\r\n\r\n" + OpenAIStream.Replace("data: ", "data:").Replace("\n", "\r\n")
            .Replace("data:[DONE]\r\n\r\n", ": keep-alive\rdata:[DONE]\r\r");
        var r = await DecodeAsync(OpenAIAdapter.Instance, quirky);
        Assert.Equal(Expected, r.Text);
        Assert.Equal(new TokenUsage(9, 2), r.Usage);
        Assert.True(r.Decoder.Ended);
    }

    [Fact]
    public async Task Multi_line_data_fields_are_joined()
    {
        var body = "data: {\"choices\":[{\"index\":0,\n data: \"delta\":{\"content\":\"two lines\"}}]}\n\ndata: [DONE]\n\n"
            .Replace("\n data: ", "\ndata: ");
        var r = await DecodeAsync(OpenAIAdapter.Instance, body);
        Assert.Equal("two lines", r.Text);
    }

    [Fact]
    public async Task Missing_done_still_finishes_on_finish_reason()
    {
        var r = await DecodeAsync(OpenAIAdapter.Instance, OpenAIStream.Replace("data: [DONE]\n\n", ""));
        Assert.Equal(Expected, r.Text);
        Assert.False(r.Decoder.Ended);
        Assert.True(r.Decoder.SawFinish);
    }

    [Fact]
    public async Task Stream_without_finish_or_done_is_recognisably_truncated()
    {
        var cut = OpenAIStream[..OpenAIStream.IndexOf("{\"index\":0,\"delta\":{},", StringComparison.Ordinal)];
        var r = await DecodeAsync(OpenAIAdapter.Instance, cut[..cut.LastIndexOf("data:", StringComparison.Ordinal)]);
        Assert.False(r.Decoder.Ended || r.Decoder.SawFinish);
    }

    [Fact]
    public async Task Empty_choices_chunks_and_choiceless_pings_do_not_crash()
    {
        var body = "data: {\"choices\":[]}\n\ndata: {\"id\":\"x\",\"object\":\"chat.completion.chunk\"}\n\n" + OpenAIStream;
        var r = await DecodeAsync(OpenAIAdapter.Instance, body);
        Assert.Equal(Expected, r.Text);
    }

    [Fact]
    public async Task Usage_on_the_finish_chunk_is_read()
    {
        var body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n" +
                   "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":1}}\n\n";
        var r = await DecodeAsync(OpenAIAdapter.Instance, body);
        Assert.Equal("length", r.Finish);
        Assert.Equal(new TokenUsage(4, 1), r.Usage);
    }

    [Fact]
    public async Task Numbers_sent_as_strings_are_read()
    {
        var body = "data: {\"created\":\"1753357673\",\"choices\":[{\"index\":\"0\",\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":\"12\",\"completion_tokens\":\"3\",\"completion_tokens_details\":{\"reasoning_tokens\":\"2\"},\"prompt_tokens_details\":{\"cached_tokens\":\"5\"}}}\n\ndata: [DONE]\n\n";
        var r = await DecodeAsync(OpenAIAdapter.Instance, body);
        Assert.Equal("a", r.Text);
        Assert.Equal(new TokenUsage(12, 3, ReasoningTokens: 2, CachedTokens: 5), r.Usage);
    }

    [Fact]
    public async Task Reasoning_content_and_reasoning_are_reasoning_deltas()
    {
        var body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"think \"}}]}\n\n" +
                   "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"more\"}}]}\n\n" +
                   "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"answer\"},\"finish_reason\":\"stop\"}]}\n\n";
        var r = await DecodeAsync(OpenAIAdapter.Instance, body);
        Assert.Equal("think more", r.Reasoning);
        Assert.Equal("answer", r.Text);
    }

    [Fact]
    public async Task Tool_call_fragments_keep_their_index()
    {
        var body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}}]}\n\n" +
                   "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]}}]}\n\n" +
                   "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Oslo\\\"}\"}}]}}]}\n\n" +
                   "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n";
        var r = await DecodeAsync(OpenAIAdapter.Instance, body);
        var calls = r.Events.OfType<ToolCallDelta>().ToList();
        Assert.Equal("call_1", calls[0].Id);
        Assert.Equal("get_weather", calls[0].Name);
        Assert.All(calls, c => Assert.Equal(0, c.Index));
        Assert.Equal("{\"city\":\"Oslo\"}", string.Concat(calls.Select(c => c.ArgumentsFragment)));
        Assert.Equal("tool_calls", r.Finish);
    }

    [Theory]
    [InlineData("application/json body", "{\"error\":{\"message\":\"Upstream provider returned an error\",\"type\":\"server_error\",\"param\":null,\"code\":null}}")]
    [InlineData("SSE error event", "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n")]
    [InlineData("OpenRouter numeric code", "data: {\"error\":{\"code\":502,\"message\":\"Provider returned error\"},\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"error\"}]}\n\n")]
    public async Task Errors_sent_with_200_are_retryable_upstream_failures(string _, string body)
    {
        var ex = await Assert.ThrowsAsync<UpstreamFailure>(() => DecodeAsync(OpenAIAdapter.Instance, body));
        Assert.True(ex.Retryable);
        Assert.Equal(KeyFault.ServerError, ex.KeyFault);
    }

    [Fact]
    public async Task In_band_rate_limit_and_quota_errors_are_classified()
    {
        var limited = await Assert.ThrowsAsync<UpstreamFailure>(() => DecodeAsync(OpenAIAdapter.Instance,
            "data: {\"error\":{\"message\":\"slow down\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}\n\n"));
        Assert.Equal(KeyFault.RateLimited, limited.KeyFault);
        var quota = await Assert.ThrowsAsync<UpstreamFailure>(() => DecodeAsync(OpenAIAdapter.Instance,
            "{\"error\":{\"message\":\"You exceeded your current quota\",\"type\":\"insufficient_quota\",\"code\":\"insufficient_quota\"}}"));
        Assert.Equal(KeyFault.QuotaExhausted, quota.KeyFault);
    }

    [Fact]
    public async Task Blank_lines_before_a_json_body_are_skipped()
    {
        var body = "\n\n\r\n  {\"id\":\"c\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":23,\"completion_tokens\":14,\"total_tokens\":37}}";
        var r = await DecodeAsync(OpenAIAdapter.Instance, body);
        Assert.Equal("Hi", r.Text);
        Assert.Equal(new TokenUsage(23, 14), r.Usage);
        Assert.True(r.Decoder.Ended);
    }

    [Fact]
    public async Task Html_garbage_produces_no_events_and_no_end()
    {
        var r = await DecodeAsync(OpenAIAdapter.Instance, "<html><head><title>502 Bad Gateway</title></head></html>\r\n");
        Assert.Empty(r.Events);
        Assert.False(r.Decoder.Ended || r.Decoder.SawFinish);
    }

    [Fact]
    public async Task Non_json_data_is_a_protocol_failure()
    {
        var ex = await Assert.ThrowsAsync<UpstreamFailure>(() => DecodeAsync(OpenAIAdapter.Instance, "data: hello there\n\n"));
        Assert.Equal(KeyFault.Transport, ex.KeyFault);
        await Assert.ThrowsAsync<UpstreamFailure>(() => DecodeAsync(OpenAIAdapter.Instance, "data: {\"choices\":[{\"delta\":\n\n"));
    }

    [Fact]
    public async Task A_reply_over_the_byte_cap_fails_instead_of_buffering()
    {
        var chunk = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + new string('x', 1000) + "\"}}]}\n\n";
        var body = string.Concat(Enumerable.Repeat(chunk, 200)); // ~200 KB
        var ex = await Assert.ThrowsAsync<UpstreamFailure>(() => DecodeAsync(OpenAIAdapter.Instance, body, maxBytes: 64 * 1024));
        Assert.Contains("over", ex.Message);
        var whole = await DecodeAsync(OpenAIAdapter.Instance, body);
        Assert.Equal(200 * 1000, whole.Text.Length);
    }

    [Fact]
    public async Task Anthropic_stream_maps_stop_reason_and_usage()
    {
        var body = AnthropicStream
            .Replace("\"input_tokens\":9,", "\"input_tokens\":9,\"cache_read_input_tokens\":3,\"cache_creation_input_tokens\":1,");
        var r = await DecodeAsync(Anthropic, body);
        Assert.Equal(Expected, r.Text);
        Assert.Equal("stop", r.Finish);
        Assert.Equal(new TokenUsage(13, 2, CachedTokens: 3), r.Usage);
        Assert.True(r.Decoder.Ended);
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("pause_turn", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("model_context_window_exceeded", "length")]
    [InlineData("tool_use", "tool_calls")]
    [InlineData("refusal", "content_filter")]
    public void Anthropic_stop_reasons_map_to_openai_finish_reasons(string stopReason, string finishReason) =>
        Assert.Equal(finishReason, AnthropicAdapter.MapStopReason(stopReason));

    [Fact]
    public async Task Anthropic_error_event_is_an_upstream_failure()
    {
        var body = AnthropicStream[..AnthropicStream.IndexOf("event: content_block_delta", StringComparison.Ordinal)] +
                   "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
        var ex = await Assert.ThrowsAsync<UpstreamFailure>(() => DecodeAsync(Anthropic, body));
        Assert.Equal(KeyFault.ServerError, ex.KeyFault);
        Assert.Contains("Overloaded", ex.Message);
    }

    [Fact]
    public async Task Anthropic_thinking_and_tool_use_become_reasoning_and_tool_deltas()
    {
        var body =
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n" +
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hmm\"}}\n\n" +
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"abc\"}}\n\n" +
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n" +
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}}\n\n" +
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":7}}\n\n" +
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        var r = await DecodeAsync(Anthropic, body);
        Assert.Equal("hmm", r.Reasoning);
        var calls = r.Events.OfType<ToolCallDelta>().ToList();
        Assert.Equal(new ToolCallDelta(0, "toolu_1", "get_weather", null), calls[0]);
        Assert.Equal(new ToolCallDelta(0, null, null, "{\"city\":\"Oslo\"}"), calls[1]);
        Assert.Equal("tool_calls", r.Finish);
    }

    [Fact]
    public async Task OpenAI_and_Anthropic_streams_of_one_reply_give_the_same_deltas()
    {
        var openai = await DecodeAsync(OpenAIAdapter.Instance, OpenAIStream);
        var anthropic = await DecodeAsync(Anthropic, AnthropicStream);
        Assert.Equal(openai.Events, anthropic.Events);
    }
}
