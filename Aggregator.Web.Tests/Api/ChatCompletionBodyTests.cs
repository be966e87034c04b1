using System.Text;
using System.Text.Json.Nodes;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Api;
using Aggregator.Web.Upstream;

namespace Aggregator.Web.Tests.Api;

/// <summary>The OpenAI chat body parser: every field it reads, and a 400 naming the field for each malformed one.</summary>
public class ChatCompletionBodyTests
{
    const string User = """{"role":"user","content":"hi"}""";
    const string Png = "iVBORw0KGgo=";

    /// <summary>(the body's fields after model, the param the 400 names, its code).</summary>
    public static TheoryData<string, string, string> BadFields => new()
    {
        { """ "messages":[{"role":"function","content":"x"}] """, "messages[0].role", "invalid_value" },
        { """ "messages":[{"content":"x"}] """, "messages[0].role", "missing_required_parameter" },
        { """ "messages":[{"role":"user"}] """, "messages[0].content", "missing_required_parameter" },
        { """ "messages":[{"role":"system","content":null}] """, "messages[0].content", "missing_required_parameter" },
        { """ "messages":[{"role":"user","content":[42]}] """, "messages[0].content[0]", "invalid_type" },
        { """ "messages":[{"role":"user","content":[{"text":"x"}]}] """, "messages[0].content[0].type", "missing_required_parameter" },
        { """ "messages":[{"role":"user","content":[{"type":"text","text":5}]}] """, "messages[0].content[0].text", "invalid_type" },
        { """ "messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}] """, "messages[0].content[0].type", "invalid_value" },
        { """ "messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://e.com/a.png"}}]}] """, "messages[0].content[0].type", "invalid_value" },
        { """ "messages":[{"role":"user","content":[{"type":"image_url"}]}] """, "messages[0].content[0].image_url", "invalid_type" },
        { """ "messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}] """, "messages[0].content[0].image_url.url", "invalid_type" },
        { $$$""" "messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"data:image/png;base64,@@not base64@@"}}]}] """, "messages[0].content[1].image_url.url", "invalid_value" },
        { """ "messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,"}}]}] """, "messages[0].content[0].image_url.url", "invalid_value" },
        { $$$""" "messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,{{{Png}}}"}}]}] """, "messages[0].content[0].image_url.url", "invalid_value" },
        { $$$""" "messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,{{{Png}}}"}}]}] """, "messages[0].content[0].image_url.url", "invalid_value" },
        { """ "messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64"}}]}] """, "messages[0].content[0].image_url.url", "invalid_value" },
        { """ "messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://e.com/a.png"}}]}] """, "messages[0].content[0].image_url.url", "invalid_value" },
        { """ "messages":[{"role":"user","content":[{"type":"image_url","image_url":"data:image/png;base64,%%"}]}] """, "messages[0].content[0].image_url", "invalid_value" },
        { """ "messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://e.com/a.png","detail":"max"}}]}] """, "messages[0].content[0].image_url.detail", "invalid_value" },
        { """ "messages":[{"role":"assistant","content":[{"type":"image_url","image_url":{"url":"https://e.com/a.png"}}]}] """, "messages[0].content[0].type", "invalid_value" },
        { $$$""" "messages":[{{{User}}},{"role":"assistant","tool_calls":{}}] """, "messages[1].tool_calls", "invalid_type" },
        { $$$""" "messages":[{{{User}}},{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}] """, "messages[1].tool_calls[0].id", "missing_required_parameter" },
        { $$$""" "messages":[{{{User}}},{"role":"assistant","tool_calls":[{"id":"c","type":"custom","function":{"name":"f","arguments":"{}"}}]}] """, "messages[1].tool_calls[0].type", "invalid_value" },
        { $$$""" "messages":[{{{User}}},{"role":"assistant","tool_calls":[{"id":"c","type":"function"}]}] """, "messages[1].tool_calls[0].function", "missing_required_parameter" },
        { $$$""" "messages":[{{{User}}},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"arguments":"{}"}}]}] """, "messages[1].tool_calls[0].function.name", "invalid_type" },
        { """ "messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":{}}}]}] """, "messages[1].tool_calls[0].function.arguments", "invalid_type" },
        { $$$""" "messages":[{{{User}}},{"role":"tool","content":"18 C"}] """, "messages[1].tool_call_id", "missing_required_parameter" },
        { $$$""" "messages":[{{{User}}},{"role":"tool","tool_call_id":"c"}] """, "messages[1].content", "missing_required_parameter" },
        { $$$""" "messages":[{{{User}}}],"tools":{} """, "tools", "invalid_type" },
        { $$$""" "messages":[{{{User}}}],"tools":["f"] """, "tools[0]", "invalid_type" },
        { $$$""" "messages":[{{{User}}}],"tools":[{"type":"web_search"}] """, "tools[0].type", "invalid_value" },
        { $$$""" "messages":[{{{User}}}],"tools":[{"type":"function"}] """, "tools[0].function", "missing_required_parameter" },
        { $$$""" "messages":[{{{User}}}],"tools":[{"type":"function","function":{"name":"has space"}}] """, "tools[0].function.name", "invalid_value" },
        { $$$""" "messages":[{{{User}}}],"tools":[{"type":"function","function":{"name":"f","description":1}}] """, "tools[0].function.description", "invalid_type" },
        { $$$""" "messages":[{{{User}}}],"tools":[{"type":"function","function":{"name":"f","parameters":"{}"}}] """, "tools[0].function.parameters", "invalid_type" },
        { $$$""" "messages":[{{{User}}}],"tool_choice":"always" """, "tool_choice", "invalid_value" },
        { $$$""" "messages":[{{{User}}}],"tool_choice":{"type":"function"} """, "tool_choice.function.name", "missing_required_parameter" },
        { $$$""" "messages":[{{{User}}}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}} """, "tool_choice.function.name", "invalid_value" },
        { $$$""" "messages":[{{{User}}}],"parallel_tool_calls":"no" """, "parallel_tool_calls", "invalid_type" },
        { $$$""" "messages":[{{{User}}}],"stop":5 """, "stop", "invalid_value" },
        { $$$""" "messages":[{{{User}}}],"stop":["a","b","c","d","e"] """, "stop", "invalid_value" },
        { $$$""" "messages":[{{{User}}}],"stop":["a",1] """, "stop[1]", "invalid_type" },
        { $$$""" "messages":[{{{User}}}],"temperature":2.5 """, "temperature", "invalid_value" },
        { $$$""" "messages":[{{{User}}}],"top_p":1.5 """, "top_p", "invalid_value" },
        { $$$""" "messages":[{{{User}}}],"top_p":"high" """, "top_p", "invalid_value" },
        { $$$""" "messages":[{{{User}}}],"max_completion_tokens":0 """, "max_completion_tokens", "invalid_value" },
        { $$$""" "messages":[{{{User}}}],"max_tokens":1.5 """, "max_tokens", "invalid_value" },
        { $$$""" "messages":[{{{User}}}],"reasoning_effort":"extreme" """, "reasoning_effort", "invalid_value" },
        { $$$""" "messages":[{{{User}}}],"response_format":"json" """, "response_format", "invalid_type" },
        { $$$""" "messages":[{{{User}}}],"response_format":{"type":"yaml"} """, "response_format.type", "invalid_value" },
        { $$$""" "messages":[{{{User}}}],"response_format":{"type":"json_schema"} """, "response_format.json_schema", "missing_required_parameter" },
        { """ "messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"schema":{}}} """, "response_format.json_schema.name", "invalid_value" },
        { $$$""" "messages":[{{{User}}}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":[]}} """, "response_format.json_schema.schema", "invalid_type" },
        { $$$""" "messages":[{{{User}}}],"stream":1 """, "stream", "invalid_type" },
        { $$$""" "messages":[{{{User}}}],"stream_options":true """, "stream_options", "invalid_type" },
        { $$$""" "messages":[{{{User}}}],"stream_options":{"include_usage":"yes"} """, "stream_options.include_usage", "invalid_type" },
    };

    [Theory]
    [MemberData(nameof(BadFields))]
    public void A_malformed_field_is_a_400_naming_it(string fields, string param, string code)
    {
        var error = Assert.Throws<ApiException>(() => Parse(fields)).Error;
        Assert.Equal(400, error.Status);
        Assert.Equal("invalid_request_error", error.Type);
        Assert.Equal(param, error.Param);
        Assert.Equal(code, error.Code);
    }

    [Fact]
    public void Every_role_and_part_is_read_into_the_neutral_turns()
    {
        var body = Parse($$$"""
            "messages":[
            {"role":"developer","content":"Be brief."},
            {"role":"user","name":"ann","content":[{"type":"text","text":"What is "},{"type":"image_url","image_url":{"url":"data:image/png;base64,{{{Png}}}","detail":"low"}},{"type":"text","text":"this?"},{"type":"image_url","image_url":{"url":"https://e.com/a.png"}}]},
            {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"look","arguments":"{\"x\":1}"}}]},
            {"role":"tool","tool_call_id":"call_1","content":[{"type":"text","text":"a cat"}]},
            {"role":"assistant","content":[{"type":"refusal","refusal":"No."}]}]
            """);
        var turns = body.Messages;
        Assert.Equal([MessageRole.System, MessageRole.User, MessageRole.Assistant, MessageRole.Tool, MessageRole.Assistant], turns.Select(t => t.Role));
        Assert.Equal("What is this?", turns[1].Content);
        Assert.Equal<ContentPart>([new TextPart("What is "), new ImagePart(null, "image/png", Png, "low"), new TextPart("this?"), new ImagePart("https://e.com/a.png", null, null)],
            turns[1].Parts!);
        Assert.Equal("", turns[2].Content);
        Assert.Equal(new ToolCall("call_1", "look", """{"x":1}"""), Assert.Single(turns[2].ToolCalls!));
        Assert.Equal(("call_1", "a cat"), (turns[3].ToolCallId, turns[3].Content));
        Assert.Equal("No.", turns[4].Content);
        Assert.Null(turns[0].Parts);
    }

    [Fact]
    public void An_image_url_given_as_a_bare_string_is_the_same_image()
    {
        var turn = Parse(""" "messages":[{"role":"user","content":[{"type":"image_url","image_url":"https://e.com/a.png"}]}] """).Messages[0];
        Assert.Equal(new ImagePart("https://e.com/a.png", null, null), Assert.Single(turn.Parts!));
    }

    [Fact]
    public void Every_option_is_read_into_the_neutral_request_and_the_body_kept_whole()
    {
        var body = Parse("""
            "messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true},
            "tools":[{"type":"function","function":{"name":"f","description":"does f","parameters":{"type":"object"}}}],
            "tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":false,"stop":"END","temperature":0.3,"top_p":0.9,
            "max_tokens":50,"max_completion_tokens":40,"reasoning_effort":"high","response_format":{"type":"json_object"},"seed":7,"x_vendor":{"a":[1]}
            """);
        var request = body.ToRequest(new ApiCaller(9, "u", "n", Tier.Pro, ModelAllowList.Parse(null), null), 5);

        Assert.True(body.Stream);
        Assert.True(body.IncludeUsage);
        Assert.Equal(("u", Tier.Pro, 5L, 9L, "api"), (request.UserId, request.UserTier, request.ModelId, request.ApiTokenId, request.Source));
        var tool = Assert.Single(request.Tools!);
        Assert.Equal(("f", "does f", """{"type":"object"}"""), (tool.Name, tool.Description, tool.Parameters!.ToJsonString()));
        Assert.Equal(new ToolChoice(ToolChoiceMode.Function, "f", false), request.ToolChoice);
        Assert.Equal(["END"], request.Stop!);
        Assert.Equal((0.3, 0.9, 40, "high"), (request.Temperature, request.TopP, request.MaxTokens, request.ReasoningEffort));
        Assert.Equal("json_object", (string?)request.ResponseFormat!["type"]);
        // The caller's body, untouched, for OpenAI-standard upstreams: nothing was moved out of it.
        Assert.Equal(ApiStandard.OpenAI, request.Native!.Standard);
        Assert.Equal(7, (int)request.Native.Body["seed"]!);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"a":[1]}"""), request.Native.Body["x_vendor"]));
        Assert.Equal("f", (string?)request.Native.Body["tools"]![0]!["function"]!["name"]);
    }

    [Fact]
    public void Parallel_tool_calls_alone_is_auto_with_the_flag_and_tool_choice_strings_map()
    {
        Assert.Equal(new ToolChoice(ToolChoiceMode.Auto, null, true), Parse($$$""" "messages":[{{{User}}}],"parallel_tool_calls":true """).ToolChoice);
        Assert.Equal(ToolChoiceMode.None, Parse($$$""" "messages":[{{{User}}}],"tool_choice":"none" """).ToolChoice!.Mode);
        Assert.Equal(ToolChoiceMode.Required, Parse($$$""" "messages":[{{{User}}}],"tool_choice":"required" """).ToolChoice!.Mode);
        Assert.Null(Parse($$$""" "messages":[{{{User}}}],"stop":null,"tools":[] """).Stop);
        Assert.Equal(["a", "b"], Parse($$$""" "messages":[{{{User}}}],"stop":["a","b"] """).Stop!);
    }

    static ChatCompletionBody Parse(string fields) => ChatCompletionBody.Parse(Encoding.UTF8.GetBytes($$$"""{"model":"m",{{{fields}}}}"""));
}
