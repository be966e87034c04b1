using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Api;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Protocols;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Tests.Api;

/// <summary>
/// Every Anthropic → OpenAI mapping of a /v1/messages request (what an OpenAI-standard upstream receives),
/// and every router stream event → Anthropic event mapping of the reply, one table row each.
/// </summary>
public class MessagesTranslationTests
{
    static readonly ModelRoute Model = new(1, 1, "gpt-x", "GPT X", Tier.Free, true, null, null, null);
    static readonly ApiCaller Caller = new(9, "u1", "user", Tier.Free, ModelAllowList.Parse(null), null);

    /// <summary>The OpenAI body built for an Anthropic body made of <paramref name="fields"/> (model and max_tokens added).</summary>
    static JsonObject Translate(string fields)
    {
        var body = MessagesBody.Parse(Encoding.UTF8.GetBytes($$"""{"model":"m","max_tokens":4096,{{fields}}}"""));
        var request = body.ToRequest(Caller, 1) with { Native = null }; // as if the upstream spoke another standard
        return JsonNode.Parse(OpenAIAdapter.Instance.BuildBody(Model, request).Span)!.AsObject();
    }

    const string Hi = """ "messages":[{"role":"user","content":"hi"}] """;
    const string Png = "iVBORw0KGgo=";

    [Theory]
    // system prompt: a string, or text blocks joined, first in messages
    [InlineData("\"system\":\"Be brief.\"," + Hi, "messages[0]", """{"role":"system","content":"Be brief."}""")]
    [InlineData("\"system\":[{\"type\":\"text\",\"text\":\"A\"},{\"type\":\"text\",\"text\":\"B\"}]," + Hi, "messages[0].content", "\"A\\n\\nB\"")]
    [InlineData(Hi, "messages", """[{"role":"user","content":"hi"}]""")]
    // a system turn inside messages stays a system message
    [InlineData("""  "messages":[{"role":"system","content":"S"},{"role":"user","content":"hi"}] """, "messages[0]", """{"role":"system","content":"S"}""")]
    // text blocks only: plain content; with an image: content parts, base64 as a data URL, url as is
    [InlineData("""  "messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}] """, "messages[0].content", "\"ab\"")]
    [InlineData("""  "messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},{"type":"text","text":"what?"}]}] """,
        "messages[0].content", """[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},{"type":"text","text":"what?"}]""")]
    [InlineData("""  "messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://x.test/a.jpg"}}]}] """,
        "messages[0].content[0]", """{"type":"image_url","image_url":{"url":"https://x.test/a.jpg"}}""")]
    // assistant tool_use → tool_calls (arguments as JSON text); thinking blocks dropped
    [InlineData("""  "messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"Let me look."},{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}}]}] """,
        "messages[1]", """{"role":"assistant","content":"Let me look.","tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}""")]
    [InlineData("""  "messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{}}]}] """,
        "messages[1].content", "null")]
    // tool_result → role tool with tool_call_id; string or text blocks; is_error said in the text
    [InlineData("""  "messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"42"}]}] """,
        "messages", """[{"role":"tool","tool_call_id":"toolu_1","content":"42"}]""")]
    [InlineData("""  "messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"4"},{"type":"text","text":"2"}]}]}] """,
        "messages[0].content", "\"42\"")]
    [InlineData("""  "messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"no such city","is_error":true}]}] """,
        "messages[0].content", "\"Error: no such city\"")]
    // results first, then the user's own text as a user message after them
    [InlineData("""  "messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"a"},{"type":"tool_result","tool_use_id":"t2","content":"b"},{"type":"text","text":"thanks"}]}] """,
        "messages", """[{"role":"tool","tool_call_id":"t1","content":"a"},{"role":"tool","tool_call_id":"t2","content":"b"},{"role":"user","content":"thanks"}]""")]
    // an image a tool returned: OpenAI tool messages are text, so it follows as a user message
    [InlineData("""  "messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"chart"},{"type":"image","source":{"type":"base64","media_type":"image/gif","data":"R0lGODlh"}}]}]}] """,
        "messages", """[{"role":"tool","tool_call_id":"t1","content":"chart"},{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/gif;base64,R0lGODlh"}}]}]""")]
    // tools → function tools; server tools (versioned type) have no OpenAI counterpart
    [InlineData(Hi + ""","tools":[{"name":"f","description":"d","input_schema":{"type":"object","properties":{"a":{"type":"integer"}}}},{"type":"web_search_20250305","name":"web_search"}] """,
        "tools", """[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"a":{"type":"integer"}}}}}]""")]
    // tool_choice: auto, any → required, tool → function, none; disable_parallel_tool_use → parallel_tool_calls false
    [InlineData(Hi + ""","tools":[{"name":"f","input_schema":{}}],"tool_choice":{"type":"auto"} """, "tool_choice", "\"auto\"")]
    [InlineData(Hi + ""","tools":[{"name":"f","input_schema":{}}],"tool_choice":{"type":"any"} """, "tool_choice", "\"required\"")]
    [InlineData(Hi + ""","tools":[{"name":"f","input_schema":{}}],"tool_choice":{"type":"none"} """, "tool_choice", "\"none\"")]
    [InlineData(Hi + ""","tools":[{"name":"f","input_schema":{}}],"tool_choice":{"type":"tool","name":"f"} """, "tool_choice", """{"type":"function","function":{"name":"f"}}""")]
    [InlineData(Hi + ""","tools":[{"name":"f","input_schema":{}}],"tool_choice":{"type":"auto","disable_parallel_tool_use":true} """, "parallel_tool_calls", "false")]
    [InlineData(Hi + ""","tools":[{"name":"f","input_schema":{}}] """, "parallel_tool_calls", null)]
    // OpenAI refuses tool_choice without tools: a choice among no tools is left out
    [InlineData(Hi + ""","tool_choice":{"type":"any"} """, "tool_choice", null)]
    // blocks without an OpenAI counterpart (documents, server tool blocks) are left out of the translation
    [InlineData("""  "messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"doc"}},{"type":"text","text":"sum up"}]}] """,
        "messages", """[{"role":"user","content":"sum up"}]""")]
    // sampling and limits
    [InlineData(Hi + ""","stop_sequences":["END","###"] """, "stop", """["END","###"]""")]
    [InlineData(Hi + ""","top_p":0.9 """, "top_p", "0.9")]
    [InlineData(Hi + ""","temperature":0.3 """, "temperature", "0.3")]
    [InlineData(Hi, "max_tokens", "4096")]
    [InlineData(Hi + ""","top_k":40 """, "top_k", null)]
    // thinking budget → reasoning_effort (OpenAIMessages.EffortFor)
    [InlineData(Hi + ""","thinking":{"type":"enabled","budget_tokens":1024} """, "reasoning_effort", "\"low\"")]
    [InlineData(Hi + ""","thinking":{"type":"enabled","budget_tokens":2048} """, "reasoning_effort", "\"low\"")]
    [InlineData(Hi + ""","thinking":{"type":"enabled","budget_tokens":4000} """, "reasoning_effort", "\"medium\"")]
    [InlineData(Hi + ""","thinking":{"type":"enabled","budget_tokens":3000} """, "reasoning_effort", "\"medium\"")]
    [InlineData(Hi + ""","thinking":{"type":"enabled","budget_tokens":4000} """, "max_tokens", "4096")]
    [InlineData(Hi + ""","thinking":{"type":"disabled"} """, "reasoning_effort", null)]
    // metadata.user_id → user; the rest of metadata has no OpenAI field
    [InlineData(Hi + ""","metadata":{"user_id":"abc"} """, "user", "\"abc\"")]
    [InlineData(Hi + ""","metadata":{"user_id":"abc"} """, "metadata", null)]
    // the caller's choice of streaming reaches the upstream; a stream always asks for usage
    [InlineData(Hi + ""","stream":false """, "stream", "false")]
    [InlineData(Hi + ""","stream":true """, "stream", "true")]
    [InlineData(Hi + ""","stream":true """, "stream_options", """{"include_usage":true}""")]
    [InlineData(Hi, "stream_options", null)]
    public void An_anthropic_request_field_maps_to_openai(string fields, string path, string? expected)
    {
        var actual = Select(Translate(fields), path);
        if (expected is null) Assert.Null(actual);
        else Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"{path}: expected {expected}, got {actual?.ToJsonString() ?? "(absent)"}");
    }

    [Fact]
    public void A_large_thinking_budget_is_high_effort()
    {
        var body = MessagesBody.Parse(Encoding.UTF8.GetBytes("""{"model":"m","max_tokens":40000,"thinking":{"type":"enabled","budget_tokens":16000},"messages":[{"role":"user","content":"hi"}]}"""));
        var sent = JsonNode.Parse(OpenAIAdapter.Instance.BuildBody(Model, body.ToRequest(Caller, 1) with { Native = null }).Span)!;
        Assert.Equal("high", (string?)sent["reasoning_effort"]);
    }

    [Fact]
    public void The_callers_body_is_kept_whole_for_an_anthropic_upstream()
    {
        const string json = """{"model":"claude/x","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}],"top_k":5,"service_tier":"auto"}""";
        var request = MessagesBody.Parse(Encoding.UTF8.GetBytes(json)).ToRequest(Caller, 1);
        Assert.Equal(ApiStandard.Anthropic, request.Native!.Standard);
        var sent = JsonNode.Parse(new AnthropicAdapter(4096).BuildBody(Model, request).Span)!.AsObject();
        Assert.Equal("gpt-x", (string?)sent["model"]);
        Assert.False((bool)sent["stream"]!); // the caller asked for a whole message
        Assert.Equal(5, (int)sent["top_k"]!);
        Assert.Equal("auto", (string?)sent["service_tier"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json)!["messages"], sent["messages"]));
        Assert.Equal("api", request.Source);
        Assert.Equal(9, request.ApiTokenId);
    }

    /// <summary>Dotted paths with [i] indexes; null when absent.</summary>
    static JsonNode? Select(JsonNode? node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            var name = part;
            int? index = null;
            if (part.EndsWith(']'))
            {
                var open = part.IndexOf('[');
                index = int.Parse(part[(open + 1)..^1]);
                name = part[..open];
            }
            node = node is JsonObject o && o.TryGetPropertyValue(name, out var child) ? child : null;
            if (index is { } i) node = node is JsonArray a && i < a.Count ? a[i] : null;
            if (node is null) return null;
        }
        return node;
    }

    // ---- response side: the router's events as Anthropic's named events ----

    public static TheoryData<string, StreamEvent[], string[]> Streams => new()
    {
        {
            "text", [new ContentDelta("Hel"), new ContentDelta("lo"), Done("stop")],
            ["content_block_start 0 text", "content_block_delta 0 text_delta Hel", "content_block_delta 0 text_delta lo", "content_block_stop 0", "message_delta end_turn", "message_stop"]
        },
        {
            "reasoning then text", [new ReasoningDelta("think"), new ContentDelta("answer"), Done("stop")],
            ["content_block_start 0 thinking", "content_block_delta 0 thinking_delta think", "content_block_stop 0",
             "content_block_start 1 text", "content_block_delta 1 text_delta answer", "content_block_stop 1", "message_delta end_turn", "message_stop"]
        },
        {
            "one tool call", [new ToolCallDelta(0, "call_1", "f", ""), new ToolCallDelta(0, null, null, "{\"a\":"), new ToolCallDelta(0, null, null, "1}"), Done("tool_calls")],
            ["content_block_start 0 tool_use call_1 f", "content_block_delta 0 input_json_delta {\"a\":", "content_block_delta 0 input_json_delta 1}", "content_block_stop 0", "message_delta tool_use", "message_stop"]
        },
        {
            "text then two tool calls", [new ContentDelta("Looking."), new ToolCallDelta(0, "c1", "f", "{}"), new ToolCallDelta(1, "c2", "g", "{\"x\":2}"), Done("tool_calls")],
            ["content_block_start 0 text", "content_block_delta 0 text_delta Looking.", "content_block_stop 0",
             "content_block_start 1 tool_use c1 f", "content_block_delta 1 input_json_delta {}", "content_block_stop 1",
             "content_block_start 2 tool_use c2 g", "content_block_delta 2 input_json_delta {\"x\":2}", "content_block_stop 2", "message_delta tool_use", "message_stop"]
        },
        {
            "route, usage and finish events write nothing", [new UsageDelta(new TokenUsage(1, 1)), new FinishDelta("length"), new ContentDelta("cut"), Done("length")],
            ["content_block_start 0 text", "content_block_delta 0 text_delta cut", "content_block_stop 0", "message_delta max_tokens", "message_stop"]
        },
        { "nothing at all", [Done("stop")], ["message_delta end_turn", "message_stop"] },
    };

    static StreamCompleted Done(string finish) => new(new TokenUsage(10, 5), finish, null);

    [Theory]
    [MemberData(nameof(Streams))]
    public void Router_events_become_anthropic_content_blocks(string name, StreamEvent[] events, string[] expected)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new MessageWriter("msg_1", "p/m");
        writer.Start(output, 3);
        foreach (var e in events)
        {
            switch (e)
            {
                case ContentDelta d: writer.Text(output, d.Text); break;
                case ReasoningDelta r: writer.Thinking(output, r.Text); break;
                case ToolCallDelta t: writer.Tool(output, t); break;
                case StreamCompleted c: writer.Finish(output, c); break;
            }
        }
        var written = AnthropicResponses.Events(Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.All(written, e => Assert.Equal(e.Event, e.Data.GetProperty("type").GetString()));
        Assert.Equal("message_start", written[0].Event);
        Assert.Equal("ping", written[1].Event);
        Assert.True(expected.SequenceEqual(written.Skip(2).Select(Summary)), $"{name}: {string.Join(" | ", written.Skip(2).Select(Summary))}");
    }

    static string Summary((string Event, JsonElement Data) e) => e.Event switch
    {
        "content_block_start" => e.Data.GetProperty("content_block") is var b && b.GetProperty("type").GetString() == "tool_use"
            ? $"{e.Event} {e.Data.GetProperty("index")} tool_use {b.GetProperty("id")} {b.GetProperty("name")}"
            : $"{e.Event} {e.Data.GetProperty("index")} {b.GetProperty("type")}",
        "content_block_delta" => e.Data.GetProperty("delta") is var d
            ? $"{e.Event} {e.Data.GetProperty("index")} {d.GetProperty("type")} {(d.TryGetProperty("text", out var t) ? t : d.TryGetProperty("thinking", out var th) ? th : d.GetProperty("partial_json"))}"
            : "",
        "content_block_stop" => $"{e.Event} {e.Data.GetProperty("index")}",
        "message_delta" => $"{e.Event} {e.Data.GetProperty("delta").GetProperty("stop_reason")}",
        _ => e.Event,
    };

    [Theory]
    [InlineData("stop", "end_turn")]
    [InlineData("length", "max_tokens")]
    [InlineData("tool_calls", "tool_use")]
    [InlineData("function_call", "tool_use")]
    [InlineData("content_filter", "refusal")]
    [InlineData("something_new", "end_turn")]
    public void OpenAI_finish_reasons_map_to_anthropic_stop_reasons(string finish, string stop) =>
        Assert.Equal(stop, MessageWriter.StopReason(finish));

    [Theory]
    [InlineData(100, 0, 100, 0)]
    [InlineData(100, 60, 40, 60)] // OpenAI's prompt tokens include the cached ones; Anthropic counts them apart
    public void Usage_keeps_cached_tokens_apart_as_anthropic_does(int prompt, int cached, int input, int cacheRead)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new MessageWriter("msg_1", "p/m");
        writer.Start(output, 1);
        writer.Finish(output, new StreamCompleted(new TokenUsage(prompt, 7, CachedTokens: cached), "stop", null));
        var usage = AnthropicResponses.Events(Encoding.UTF8.GetString(output.WrittenSpan)).Single(e => e.Event == "message_delta").Data.GetProperty("usage");
        Assert.Equal(input, usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(cacheRead, usage.GetProperty("cache_read_input_tokens").GetInt32());
        Assert.Equal(7, usage.GetProperty("output_tokens").GetInt32());
    }

    [Fact]
    public void A_whole_message_gathers_blocks_in_order_with_tool_input_as_an_object()
    {
        var content = new MessageContent();
        foreach (var e in new StreamEvent[]
                 {
                     new RouteStarted(new RouteInfo(1, "p", 1, "m", 1)), new ReasoningDelta("hm"), new ContentDelta("A"), new ContentDelta("B"),
                     new ToolCallDelta(0, "c1", "f", "{\"a\""), new ToolCallDelta(0, null, null, ":1}"), new ToolCallDelta(1, null, "g", "not json"),
                 })
            content.Add(e);
        var output = new ArrayBufferWriter<byte>();
        new MessageWriter("msg_1", "p/m").Message(output, content, new StreamCompleted(new TokenUsage(3, 4, CachedTokens: 1), "tool_calls", null));

        using var doc = JsonDocument.Parse(output.WrittenMemory);
        var root = doc.RootElement;
        Assert.Equal("message", root.GetProperty("type").GetString());
        Assert.Equal("tool_use", root.GetProperty("stop_reason").GetString());
        var blocks = root.GetProperty("content").EnumerateArray().ToList();
        Assert.Equal(["thinking", "text", "tool_use", "tool_use"], blocks.Select(b => b.GetProperty("type").GetString()));
        Assert.Equal("AB", blocks[1].GetProperty("text").GetString());
        Assert.Equal(1, blocks[2].GetProperty("input").GetProperty("a").GetInt32());
        Assert.Equal(JsonValueKind.Object, blocks[3].GetProperty("input").ValueKind); // unparseable arguments: {}
        Assert.StartsWith("toolu_", blocks[3].GetProperty("id").GetString()); // an upstream without ids still gets one
        Assert.Equal(2, root.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        Assert.Equal(1, root.GetProperty("usage").GetProperty("cache_read_input_tokens").GetInt32());
    }
}
