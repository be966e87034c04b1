using System.Text;
using System.Text.Json.Nodes;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Api;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Protocols;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Tests.Router;

/// <summary>
/// OpenAI caller → Anthropic upstream, one row per mapping: the caller's body goes through the real parser
/// (<see cref="ChatCompletionBody"/>) and the Anthropic adapter; every field of the expected fragment must be
/// in the built body, equal as JSON, and every field named absent must not be there. The way back (stop
/// reasons, usage, tool calls) is decoded from Anthropic replies.
/// </summary>
public class AnthropicTranslationTests
{
    static readonly ModelRoute Model = new(1, 1, "claude-sonnet-4-5", "Claude", Tier.Free, true, null, null, null);
    static readonly AnthropicAdapter Adapter = new(4096);
    static readonly ApiCaller Caller = new(1, "u1", "user", Tier.Free, ModelAllowList.Parse(null), null);

    const string Weather = """{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}""";
    const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""";
    const string AskWeather = """{"role":"user","content":"Weather in Paris?"}""";
    const string CalledWeather = """{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}""";

    /// <summary>(mapping, the OpenAI body's fields after model, the expected Anthropic fragment, fields that must be absent).</summary>
    public static TheoryData<string, string, string, string[]> OpenAIToAnthropic => new()
    {
        { "system and developer turns become the top-level system",
            """ "messages":[{"role":"system","content":"Be brief."},{"role":"developer","content":[{"type":"text","text":"Use metric."}]},{"role":"user","content":"hi"}] """,
            """{"system":"Be brief.\n\nUse metric.","messages":[{"role":"user","content":"hi"}]}""", [] },
        { "no system turn, no system field",
            """ "messages":[{"role":"user","content":"hi"}] """, """{"messages":[{"role":"user","content":"hi"}]}""", ["system"] },
        { "consecutive turns of one side merge, so user and assistant alternate",
            """ "messages":[{"role":"user","content":"a"},{"role":"user","content":"b"},{"role":"assistant","content":"c"},{"role":"assistant","content":"d"},{"role":"user","content":"e"}] """,
            """{"messages":[{"role":"user","content":"a\n\nb"},{"role":"assistant","content":"c\n\nd"},{"role":"user","content":"e"}]}""", [] },
        { "an image URL part becomes a url image block, text kept in order",
            """ "messages":[{"role":"user","content":[{"type":"text","text":"Look:"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png","detail":"high"}}]}] """,
            """{"messages":[{"role":"user","content":[{"type":"text","text":"Look:"},{"type":"image","source":{"type":"url","url":"https://example.com/cat.png"}}]}]}""", [] },
        { "a data URL becomes a base64 image block",
            """ "messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},{"type":"text","text":"What is it?"}]}] """,
            """{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},{"type":"text","text":"What is it?"}]}]}""", [] },
        { "image/jpg is sent as Anthropic's image/jpeg",
            """ "messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/jpg;base64,/9j/4AAQ"}}]}] """,
            """{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}}]}]}""", [] },
        { "function tools become name, description, input_schema",
            $$""" "messages":[{{AskWeather}}],"tools":[{{Weather}}] """,
            $$"""{"tools":[{"name":"get_weather","description":"Weather now","input_schema":{{WeatherSchema}}}]}""", ["tool_choice"] },
        { "a tool without parameters gets an empty object schema",
            """ "messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"now"}}] """,
            """{"tools":[{"name":"now","input_schema":{"type":"object","properties":{}}}]}""", [] },
        { "tool_choice auto", $$""" "messages":[{{AskWeather}}],"tools":[{{Weather}}],"tool_choice":"auto" """, """{"tool_choice":{"type":"auto"}}""", [] },
        { "tool_choice none", $$""" "messages":[{{AskWeather}}],"tools":[{{Weather}}],"tool_choice":"none" """, """{"tool_choice":{"type":"none"}}""", [] },
        { "tool_choice required is any", $$""" "messages":[{{AskWeather}}],"tools":[{{Weather}}],"tool_choice":"required" """, """{"tool_choice":{"type":"any"}}""", [] },
        { "tool_choice naming a function is tool",
            $$$""" "messages":[{{{AskWeather}}}],"tools":[{{{Weather}}}],"tool_choice":{"type":"function","function":{"name":"get_weather"}} """,
            """{"tool_choice":{"type":"tool","name":"get_weather"}}""", [] },
        { "parallel_tool_calls false disables parallel use",
            $$""" "messages":[{{AskWeather}}],"tools":[{{Weather}}],"parallel_tool_calls":false """,
            """{"tool_choice":{"type":"auto","disable_parallel_tool_use":true}}""", [] },
        { "parallel_tool_calls false with required",
            $$""" "messages":[{{AskWeather}}],"tools":[{{Weather}}],"tool_choice":"required","parallel_tool_calls":false """,
            """{"tool_choice":{"type":"any","disable_parallel_tool_use":true}}""", [] },
        { "assistant tool calls become tool_use blocks with the parsed arguments",
            $$$""" "messages":[{{{AskWeather}}},{"role":"assistant","content":"Checking.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}],"tools":[{{{Weather}}}] """,
            """{"messages":[{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}}]}]}""", [] },
        { "empty arguments are an empty input",
            """ "messages":[{"role":"user","content":"now?"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"now","arguments":""}}]}],"tools":[{"type":"function","function":{"name":"now"}}] """,
            """{"messages":[{"role":"user","content":"now?"},{"role":"assistant","content":[{"type":"tool_use","id":"c","name":"now","input":{}}]}]}""", [] },
        { "arguments that are not a JSON object are kept as _raw",
            """ "messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"city\":"}},{"id":"c2","type":"function","function":{"name":"f","arguments":"[1,2]"}}]}],"tools":[{"type":"function","function":{"name":"f"}}] """,
            """{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"c1","name":"f","input":{"_raw":"{\"city\":"}},{"type":"tool_use","id":"c2","name":"f","input":{"_raw":"[1,2]"}}]}]}""", [] },
        { "a tool message becomes a user tool_result",
            $$""" "messages":[{{AskWeather}},{{CalledWeather}},{"role":"tool","tool_call_id":"call_1","content":"18 C"}],"tools":[{{Weather}}] """,
            """{"messages":[{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":[{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"18 C"}]}]}""", [] },
        { "consecutive tool results share one user message, before the user's text",
            $$$""" "messages":[{{{AskWeather}}},{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"get_weather","arguments":"{}"}},{"id":"b","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},{"role":"tool","tool_call_id":"a","content":"one"},{"role":"tool","tool_call_id":"b","content":[{"type":"text","text":"two"}]},{"role":"user","content":"thanks"}],"tools":[{{{Weather}}}] """,
            """{"messages":[{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"get_weather","input":{}},{"type":"tool_use","id":"b","name":"get_weather","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":"one"},{"type":"tool_result","tool_use_id":"b","content":"two"},{"type":"text","text":"thanks"}]}]}""", [] },
        { "call ids outside Anthropic's alphabet are mapped alike on both sides",
            """ "messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"call:1.x","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call:1.x","content":"ok"}],"tools":[{"type":"function","function":{"name":"f"}}] """,
            """{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"call_1_x","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1_x","content":"ok"}]}]}""", [] },
        { "tool history without tools declares the tools used and allows no new call",
            $$""" "messages":[{{AskWeather}},{{CalledWeather}},{"role":"tool","tool_call_id":"call_1","content":"18 C"}] """,
            """{"tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"none"}}""", [] },
        { "stop as a string", """ "messages":[{"role":"user","content":"hi"}],"stop":"END" """, """{"stop_sequences":["END"]}""", [] },
        { "stop as an array", """ "messages":[{"role":"user","content":"hi"}],"stop":["a","b"] """, """{"stop_sequences":["a","b"]}""", [] },
        { "top_p as is", """ "messages":[{"role":"user","content":"hi"}],"top_p":0.3 """, """{"top_p":0.3}""", [] },
        { "temperature and top_p together: temperature only, as Anthropic takes one",
            """ "messages":[{"role":"user","content":"hi"}],"temperature":0.4,"top_p":0.3 """, """{"temperature":0.4}""", ["top_p"] },
        { "top_k, which OpenAI-compatible gateways take, is kept", """ "messages":[{"role":"user","content":"hi"}],"top_k":40 """, """{"top_k":40}""", [] },
        { "temperature within Anthropic's range as is", """ "messages":[{"role":"user","content":"hi"}],"temperature":0.4 """, """{"temperature":0.4}""", [] },
        { "temperature above 1 is capped at 1", """ "messages":[{"role":"user","content":"hi"}],"temperature":1.7 """, """{"temperature":1.0}""", [] },
        { "max_tokens as is", """ "messages":[{"role":"user","content":"hi"}],"max_tokens":300 """, """{"max_tokens":300}""", ["thinking"] },
        { "max_completion_tokens wins over max_tokens", """ "messages":[{"role":"user","content":"hi"}],"max_tokens":300,"max_completion_tokens":200 """, """{"max_tokens":200}""", [] },
        { "no limit: the adapter's default", """ "messages":[{"role":"user","content":"hi"}] """, """{"max_tokens":4096,"stream":false}""", ["temperature", "top_p", "stop_sequences", "tools", "thinking"] },
        { "reasoning_effort low is a 1024 budget, max_tokens raised above it",
            """ "messages":[{"role":"user","content":"hi"}],"reasoning_effort":"low","max_tokens":500 """,
            """{"thinking":{"type":"enabled","budget_tokens":1024},"max_tokens":1524}""", [] },
        { "reasoning_effort minimal is the smallest budget", """ "messages":[{"role":"user","content":"hi"}],"reasoning_effort":"minimal","max_tokens":5000 """,
            """{"thinking":{"type":"enabled","budget_tokens":1024},"max_tokens":5000}""", [] },
        { "reasoning_effort medium is 4096, the default limit raised above it",
            """ "messages":[{"role":"user","content":"hi"}],"reasoning_effort":"medium" """,
            """{"thinking":{"type":"enabled","budget_tokens":4096},"max_tokens":8192}""", [] },
        { "reasoning_effort high is 16384 inside a larger limit",
            """ "messages":[{"role":"user","content":"hi"}],"reasoning_effort":"high","max_completion_tokens":20000 """,
            """{"thinking":{"type":"enabled","budget_tokens":16384},"max_tokens":20000}""", [] },
        { "reasoning_effort none asks for no thinking", """ "messages":[{"role":"user","content":"hi"}],"reasoning_effort":"none" """, "{}", ["thinking"] },
        { "with thinking, temperature and a low top_p are left out",
            """ "messages":[{"role":"user","content":"hi"}],"reasoning_effort":"low","temperature":0.2,"top_p":0.5 """,
            """{"thinking":{"type":"enabled","budget_tokens":1024}}""", ["temperature", "top_p"] },
        { "with thinking, a top_p of 0.95 or more is kept",
            """ "messages":[{"role":"user","content":"hi"}],"reasoning_effort":"low","top_p":0.97 """, """{"top_p":0.97}""", ["temperature"] },
        { "a forced tool goes without thinking (Anthropic allows only auto or none with it)",
            $$""" "messages":[{{AskWeather}}],"tools":[{{Weather}}],"tool_choice":"required","reasoning_effort":"high","max_tokens":500 """,
            """{"max_tokens":500,"tool_choice":{"type":"any"}}""", ["thinking"] },
        { "a tool loop goes without thinking (the last call's signed thinking is not the caller's to send)",
            $$""" "messages":[{{AskWeather}},{{CalledWeather}},{"role":"tool","tool_call_id":"call_1","content":"18 C"}],"tools":[{{Weather}}],"reasoning_effort":"low" """,
            "{}", ["thinking"] },
        { "tools offered with auto keep thinking",
            $$""" "messages":[{{AskWeather}}],"tools":[{{Weather}}],"reasoning_effort":"low","max_tokens":5000 """,
            """{"thinking":{"type":"enabled","budget_tokens":1024}}""", [] },
        { "response_format json_object is a system instruction",
            """ "messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"} """,
            """{"system":"Reply with a single valid JSON object and nothing else: no prose, no Markdown code fences."}""", ["response_format"] },
        { "response_format json_schema puts the schema in the system instruction, after the caller's system",
            """ "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"answer","schema":{"type":"object","properties":{"n":{"type":"integer"}}}}} """,
            """{"system":"Be brief.\n\nReply with a single valid JSON object that conforms to this JSON Schema, and nothing else (no prose, no Markdown code fences): {\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}}"}""", [] },
        { "response_format text changes nothing", """ "messages":[{"role":"user","content":"hi"}],"response_format":{"type":"text"} """, "{}", ["system", "response_format"] },
        { "OpenAI-only fields do not reach Anthropic",
            """ "messages":[{"role":"user","content":"hi"}],"seed":1,"logit_bias":{"1":2},"n":1,"frequency_penalty":0.5,"user":"abc" """,
            "{}", ["seed", "logit_bias", "n", "frequency_penalty", "user", "stream_options"] },
    };

    [Theory]
    [MemberData(nameof(OpenAIToAnthropic))]
    public void OpenAI_request_field_maps_to_Anthropic(string mapping, string fields, string expected, string[] absent)
    {
        var body = Build(Parse(fields).ToRequest(Caller, 1));
        AssertFragment(mapping, body, expected, absent);
    }

    /// <summary>Neutral fields no OpenAI body carries (an Anthropic caller's), through the same adapter.</summary>
    public static TheoryData<string, ChatRequest, string> NeutralToAnthropic => new()
    {
        { "a top-level system prompt comes before system turns",
            Ask(new ChatTurn(MessageRole.System, "Turn system."), new ChatTurn(MessageRole.User, "hi")) with { System = "Top system." },
            """{"system":"Top system.\n\nTurn system."}""" },
        { "a tool result reported as an error keeps is_error",
            Ask(new ChatTurn(MessageRole.User, "go"), new ChatTurn(MessageRole.Assistant, "") { ToolCalls = [new("t1", "f", "{}")] },
                new ChatTurn(MessageRole.Tool, "boom") { ToolCallId = "t1", IsError = true }) with { Tools = [new ToolDefinition("f", null, null)] },
            """{"messages":[{"role":"user","content":"go"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"boom","is_error":true}]}]}""" },
        { "a thinking budget asked for directly is sent as asked",
            Ask(new ChatTurn(MessageRole.User, "hi")) with { ThinkingBudget = 2000, MaxTokens = 3000 },
            """{"thinking":{"type":"enabled","budget_tokens":2000},"max_tokens":3000}""" },
        { "a budget under Anthropic's minimum is raised to it",
            Ask(new ChatTurn(MessageRole.User, "hi")) with { ThinkingBudget = 10, MaxTokens = 3000 },
            """{"thinking":{"type":"enabled","budget_tokens":1024}}""" },
    };

    [Theory]
    [MemberData(nameof(NeutralToAnthropic))]
    public void Neutral_request_field_maps_to_Anthropic(string mapping, ChatRequest request, string expected) =>
        AssertFragment(mapping, Build(request), expected, []);

    [Theory]
    [InlineData("high", 8192, null, """{"max_tokens":8192,"thinking":{"type":"enabled","budget_tokens":4096}}""")]
    [InlineData("high", 20000, 5000, """{"max_tokens":20000,"thinking":{"type":"enabled","budget_tokens":10000}}""")]
    [InlineData("medium", 64000, 500, """{"max_tokens":4596,"thinking":{"type":"enabled","budget_tokens":4096}}""")]
    [InlineData("low", 1500, 1000, """{"max_tokens":1000}""")]
    public void A_thinking_budget_stays_within_the_models_output_ceiling(string effort, int ceiling, int? maxTokens, string expected)
    {
        var model = Model with { MaxOutputTokens = ceiling };
        var request = Ask(new ChatTurn(MessageRole.User, "hi")) with { ReasoningEffort = effort, MaxTokens = maxTokens };
        var body = JsonNode.Parse(Encoding.UTF8.GetString(new AnthropicAdapter(100_000).BuildBody(model, request).Span))!.AsObject();
        AssertFragment($"{effort} under {ceiling}", body, expected, expected.Contains("thinking") ? [] : ["thinking"]);
    }

    [Fact]
    public void An_Anthropic_callers_own_body_is_forwarded_not_rebuilt()
    {
        var native = JsonNode.Parse("""{"model":"x","max_tokens":9,"messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}],"stream":false}""")!.AsObject();
        var body = Build(Ask(new ChatTurn(MessageRole.User, "hi")) with { Native = new NativeBody(ApiStandard.Anthropic, native) });
        AssertFragment("native", body, """{"model":"claude-sonnet-4-5","max_tokens":9,"stream":true,"messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}]}""", []);
    }

    [Fact]
    public void An_OpenAI_callers_body_is_not_forwarded_to_Anthropic()
    {
        var body = Build(Parse(""" "messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true} """).ToRequest(Caller, 1));
        Assert.Null(body["stream_options"]);
        Assert.Equal(4096, (int)body["max_tokens"]!);
    }

    // ---- the way back: Anthropic replies in neutral (OpenAI) terms ----

    public static TheoryData<string, string> StopReasons => new()
    {
        { "end_turn", "stop" }, { "stop_sequence", "stop" }, { "pause_turn", "stop" }, { "max_tokens", "length" },
        { "model_context_window_exceeded", "length" }, { "tool_use", "tool_calls" }, { "refusal", "content_filter" },
    };

    [Theory]
    [MemberData(nameof(StopReasons))]
    public void Anthropic_stop_reason_maps_to_finish_reason(string stopReason, string finishReason)
    {
        var whole = Decode($$$"""{"type":"message","role":"assistant","content":[{"type":"text","text":"hi"}],"stop_reason":"{{{stopReason}}}","usage":{"input_tokens":1,"output_tokens":1}}""");
        Assert.Equal(finishReason, Assert.Single(whole.OfType<FinishDelta>()).FinishReason);

        var streamed = DecodeStream(("message_delta", $$$"""{"type":"message_delta","delta":{"stop_reason":"{{{stopReason}}}"},"usage":{"output_tokens":1}}"""));
        Assert.Equal(finishReason, Assert.Single(streamed.OfType<FinishDelta>()).FinishReason);
    }

    [Fact]
    public void Anthropic_usage_keeps_cached_tokens_inside_the_prompt_count()
    {
        var whole = Decode("""{"type":"message","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":10,"cache_read_input_tokens":5,"cache_creation_input_tokens":2,"output_tokens":7}}""");
        Assert.Equal(new TokenUsage(17, 7, CachedTokens: 5), Assert.Single(whole.OfType<UsageDelta>()).Usage);

        var streamed = DecodeStream(
            ("message_start", """{"type":"message_start","message":{"usage":{"input_tokens":10,"cache_read_input_tokens":5,"cache_creation_input_tokens":2,"output_tokens":1}}}"""),
            ("message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}}"""));
        Assert.Equal(new TokenUsage(17, 7, CachedTokens: 5), streamed.OfType<UsageDelta>().Last().Usage);
    }

    [Fact]
    public void A_whole_Anthropic_message_keeps_its_tool_use_input_as_the_arguments()
    {
        var events = Decode("""{"type":"message","content":[{"type":"thinking","thinking":"Let me see."},{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris","days":[1,2]}},{"type":"tool_use","id":"toolu_2","name":"now","input":{}}],"stop_reason":"tool_use","usage":{"input_tokens":3,"output_tokens":4}}""");
        var calls = events.OfType<ToolCallDelta>().ToList();
        Assert.Equal(2, calls.Count);
        Assert.Equal(new ToolCallDelta(0, "toolu_1", "get_weather", """{"city":"Paris","days":[1,2]}"""), calls[0]);
        Assert.Equal(new ToolCallDelta(1, "toolu_2", "now", "{}"), calls[1]);
        Assert.Equal("Let me see.", Assert.Single(events.OfType<ReasoningDelta>()).Text);
        Assert.Equal("Checking.", Assert.Single(events.OfType<ContentDelta>()).Text);
        Assert.Equal("tool_calls", Assert.Single(events.OfType<FinishDelta>()).FinishReason);
    }

    [Fact]
    public void A_streamed_tool_use_opens_with_id_and_name_then_sends_argument_fragments()
    {
        var events = DecodeStream(
            ("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking."}}"""),
            ("content_block_start", """{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}"""));
        Assert.Equal(
            [new ToolCallDelta(0, "toolu_1", "get_weather", null), new ToolCallDelta(0, null, null, "{\"city\":"), new ToolCallDelta(0, null, null, "\"Paris\"}")],
            events.OfType<ToolCallDelta>());
    }

    static ChatRequest Ask(params ChatTurn[] turns) => new("u1", Tier.Free, 1, turns);

    static ChatCompletionBody Parse(string fields) => ChatCompletionBody.Parse(Encoding.UTF8.GetBytes($$"""{"model":"claude/claude-sonnet-4-5",{{fields}}}"""));

    static JsonObject Build(ChatRequest request) => JsonNode.Parse(Encoding.UTF8.GetString(Adapter.BuildBody(Model, request).Span))!.AsObject();

    static void AssertFragment(string mapping, JsonObject body, string expected, string[] absent)
    {
        foreach (var (name, value) in JsonNode.Parse(expected)!.AsObject())
            Assert.True(JsonNode.DeepEquals(value, body[name]),
                $"{mapping}: '{name}' expected {value?.ToJsonString()}, sent {body[name]?.ToJsonString() ?? "nothing"}");
        foreach (var name in absent)
            Assert.False(body.ContainsKey(name), $"{mapping}: '{name}' must not be sent, sent {body[name]?.ToJsonString()}");
    }

    static List<StreamEvent> Decode(string json)
    {
        var decoder = Adapter.CreateDecoder(new SecretRedactor("sk-test-secret-123456"));
        decoder.DecodeBody(Encoding.UTF8.GetBytes(json));
        return decoder.Pending;
    }

    static List<StreamEvent> DecodeStream(params (string Event, string Data)[] items)
    {
        var decoder = Adapter.CreateDecoder(new SecretRedactor("sk-test-secret-123456"));
        var events = new List<StreamEvent>();
        foreach (var (type, data) in items)
        {
            decoder.Decode(type, Encoding.UTF8.GetBytes(data));
            events.AddRange(decoder.Pending);
            decoder.Pending.Clear();
        }
        return events;
    }
}
