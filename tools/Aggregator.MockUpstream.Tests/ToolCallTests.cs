using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Aggregator.MockUpstream;
using OpenAI;
using OpenAI.Chat;
using static Aggregator.MockUpstream.Tests.MockCalls;

namespace Aggregator.MockUpstream.Tests;

public class ToolCallTests
{
    const string WeatherSchema = """
        {"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},
         "days":{"type":"integer"},"detailed":{"type":"boolean"},"tags":{"type":"array","items":{"type":"string"}}},"required":["city"]}
        """;

    /// <summary>What the mock calls get_weather with: built from the schema, so known in advance.</summary>
    static readonly JsonNode ExpectedArguments = JsonNode.Parse("""{"city":"mock","unit":"celsius","days":1,"detailed":true,"tags":["mock"]}""")!;

    static JsonArray OpenAITools() =>
    [
        new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = "get_weather", ["description"] = "Weather for a city", ["parameters"] = JsonNode.Parse(WeatherSchema) } },
        new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = "get_time" } },
    ];

    static JsonArray AnthropicTools() =>
    [
        new JsonObject { ["name"] = "get_weather", ["description"] = "Weather for a city", ["input_schema"] = JsonNode.Parse(WeatherSchema) },
        new JsonObject { ["name"] = "get_time", ["input_schema"] = new JsonObject { ["type"] = "object" } },
    ];

    static JsonObject OpenAIBody(string text = "What is the weather?", bool stream = false, JsonNode? toolChoice = null)
    {
        var body = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(Chat(text, stream: stream, includeUsage: stream)))!.AsObject();
        body["tools"] = OpenAITools();
        if (toolChoice is not null) body["tool_choice"] = toolChoice;
        return body;
    }

    static JsonObject AnthropicBody(string text = "What is the weather?", bool stream = false, JsonNode? toolChoice = null)
    {
        var body = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(Messages(text, stream: stream)))!.AsObject();
        body["tools"] = AnthropicTools();
        if (toolChoice is not null) body["tool_choice"] = toolChoice;
        return body;
    }

    static ChatClient Client(MockUpstreamServer mock) =>
        new("gpt-4o", new ApiKeyCredential(Key), new OpenAIClientOptions { Endpoint = new Uri(mock.OpenAIUrl) });

    static ChatCompletionOptions WeatherOptions() => new()
    {
        Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather for a city", BinaryData.FromString(WeatherSchema)), ChatTool.CreateFunctionTool("get_time") },
    };

    [Fact]
    public async Task Official_OpenAI_client_gets_a_call_of_the_first_tool_and_the_round_trip_answers_with_its_result()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var client = Client(mock);
        List<ChatMessage> messages = [new UserChatMessage("What is the weather in Paris?")];

        ChatCompletion call = await client.CompleteChatAsync(messages, WeatherOptions());

        Assert.Equal(ChatFinishReason.ToolCalls, call.FinishReason);
        var toolCall = Assert.Single(call.ToolCalls);
        Assert.StartsWith("call_", toolCall.Id);
        Assert.Equal("get_weather", toolCall.FunctionName);
        Assert.True(JsonNode.DeepEquals(ExpectedArguments, JsonNode.Parse(toolCall.FunctionArguments.ToString())));

        messages.Add(new AssistantChatMessage(call));
        messages.Add(new ToolChatMessage(toolCall.Id, "Sunny, 21 degrees"));
        ChatCompletion answer = await client.CompleteChatAsync(messages, WeatherOptions());

        Assert.Equal(ChatFinishReason.Stop, answer.FinishReason);
        Assert.Empty(answer.ToolCalls);
        Assert.StartsWith("The tool returned: \"Sunny, 21 degrees\"", answer.Content[0].Text);
        // What reached the upstream: the assistant's call and the tool's result.
        var sent = JsonNode.Parse(mock.State.Received[^1].Body)!["messages"]!.AsArray();
        Assert.Equal(toolCall.Id, (string?)sent[1]!["tool_calls"]![0]!["id"]);
        Assert.Equal("tool", (string?)sent[2]!["role"]);
    }

    [Fact]
    public async Task Official_OpenAI_client_reassembles_a_streamed_tool_call()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var arguments = new StringBuilder();
        string? id = null, name = null;
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        var updates = 0;
        await foreach (var update in Client(mock).CompleteChatStreamingAsync([new UserChatMessage("Weather, streamed")], WeatherOptions()))
        {
            foreach (var part in update.ToolCallUpdates)
            {
                Assert.Equal(0, part.Index);
                id ??= part.ToolCallId;
                name ??= part.FunctionName;
                if (part.FunctionArgumentsUpdate is { } fragment && !fragment.ToMemory().IsEmpty) { arguments.Append(fragment); updates++; }
            }
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.StartsWith("call_", id);
        Assert.Equal("get_weather", name);
        Assert.True(updates > 3, $"arguments came in {updates} pieces");
        Assert.True(JsonNode.DeepEquals(ExpectedArguments, JsonNode.Parse(arguments.ToString())));
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal(updates, usage!.OutputTokenCount);
    }

    [Fact]
    public async Task Streamed_tool_call_chunks_have_OpenAIs_shape()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (_, events) = await StreamAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", OpenAIBody(stream: true)));

        Assert.Equal("[DONE]", events[^1].Data);
        var chunks = Chunks(events);
        var first = chunks[0]["choices"]![0]!["delta"]!;
        Assert.Equal("assistant", (string?)first["role"]);
        Assert.Null(first["content"]);
        var opening = first["tool_calls"]![0]!;
        Assert.Equal(0, (int)opening["index"]!);
        Assert.StartsWith("call_", (string?)opening["id"]);
        Assert.Equal("function", (string?)opening["type"]);
        Assert.Equal("get_weather", (string?)opening["function"]!["name"]);
        Assert.Equal("", (string?)opening["function"]!["arguments"]);

        var fragments = chunks[1..^2].Select(c => c["choices"]![0]!["delta"]!["tool_calls"]![0]!).ToList();
        Assert.All(fragments, f => { Assert.Equal(0, (int)f["index"]!); Assert.Null(f["id"]); Assert.Null(f["function"]!["name"]); });
        Assert.True(JsonNode.DeepEquals(ExpectedArguments, JsonNode.Parse(string.Concat(fragments.Select(f => (string)f["function"]!["arguments"]!)))));

        Assert.Equal("tool_calls", (string?)chunks[^2]["choices"]![0]!["finish_reason"]);
        Assert.Empty(chunks[^2]["choices"]![0]!["delta"]!.AsObject());
        Assert.Empty(chunks[^1]["choices"]!.AsArray());
        Assert.Equal(fragments.Count, (int)chunks[^1]["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task Reasoning_streams_before_the_tool_call_opens_and_stream_faults_cut_tool_calls_too()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var url = mock.OpenAIUrl + "/chat/completions";
        var (_, events) = await StreamAsync(OpenAIRequest(url, OpenAIBody(stream: true), fault: "reasoning"));

        var deltas = Chunks(events).Where(c => c["choices"] is JsonArray { Count: > 0 }).Select(c => c["choices"]![0]!["delta"]!).ToList();
        var firstReasoning = deltas.FindIndex(d => d["reasoning_content"] is not null);
        var opening = deltas.FindIndex(d => d["tool_calls"]?[0]?["id"] is not null);
        Assert.True(firstReasoning > 0 && opening > firstReasoning, $"reasoning at {firstReasoning}, call opened at {opening}");
        Assert.Equal(1, deltas.Count(d => d["tool_calls"]?[0]?["id"] is not null));
        var arguments = string.Concat(deltas.Select(d => (string?)d["tool_calls"]?[0]?["function"]?["arguments"] ?? ""));
        Assert.True(JsonNode.DeepEquals(ExpectedArguments, JsonNode.Parse(arguments)));

        var (_, cut) = await StreamAsync(OpenAIRequest(url, OpenAIBody(stream: true), fault: "error_event"));
        Assert.Equal("server_error", (string?)JsonNode.Parse(cut[^1].Data)!["error"]!["type"]);
        Assert.Equal(3, Chunks(cut[..^1]).Count(c => c["choices"]![0]!["delta"]!["tool_calls"]?[0]?["function"]?["arguments"] is JsonValue v && v.GetValue<string>().Length > 0));
    }

    [Fact]
    public async Task Tool_choice_picks_the_named_tool_or_none_and_the_text_switch_answers_in_text()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var url = mock.OpenAIUrl + "/chat/completions";

        var named = JsonNode.Parse("""{"type":"function","function":{"name":"get_time"}}""");
        var (_, timeCall, _) = await SendAsync(OpenAIRequest(url, OpenAIBody(toolChoice: named)));
        var call = timeCall!["choices"]![0]!["message"]!["tool_calls"]![0]!;
        Assert.Equal("get_time", (string?)call["function"]!["name"]);
        Assert.Equal("{}", (string?)call["function"]!["arguments"]);
        Assert.Null(timeCall["choices"]![0]!["message"]!["content"]);

        foreach (var (body, fault) in new (JsonObject, string?)[]
        {
            (OpenAIBody(toolChoice: "none"), null),
            (OpenAIBody("Just talk mock:no_tools"), null),
            (OpenAIBody(), MockTools.TextSwitchFault),
        })
        {
            var (response, json, _) = await SendAsync(OpenAIRequest(url, body, fault: fault));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var choice = json!["choices"]![0]!;
            Assert.Equal("stop", (string?)choice["finish_reason"]);
            Assert.Null(choice["message"]!["tool_calls"]);
            Assert.StartsWith("You said:", (string?)choice["message"]!["content"]);
        }
    }

    [Fact]
    public async Task Anthropic_request_with_tools_gets_a_tool_use_block()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(AnthropicRequest(mock.AnthropicUrl + "/messages", AnthropicBody()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("tool_use", (string?)json!["stop_reason"]);
        var block = json["content"]!.AsArray().Single()!;
        Assert.Equal("tool_use", (string?)block["type"]);
        Assert.StartsWith("toolu_", (string?)block["id"]);
        Assert.Equal("get_weather", (string?)block["name"]);
        Assert.True(JsonNode.DeepEquals(ExpectedArguments, block["input"]));

        var (_, timeJson, _) = await SendAsync(AnthropicRequest(mock.AnthropicUrl + "/messages",
            AnthropicBody(toolChoice: JsonNode.Parse("""{"type":"tool","name":"get_time"}"""))));
        Assert.Equal("get_time", (string?)timeJson!["content"]![0]!["name"]);
        Assert.Empty(timeJson["content"]![0]!["input"]!.AsObject());
    }

    [Fact]
    public async Task Anthropic_streamed_tool_use_sends_input_json_deltas_and_stop_reason_tool_use()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (_, events) = await StreamAsync(AnthropicRequest(mock.AnthropicUrl + "/messages", AnthropicBody(stream: true)));

        var names = events.Select(e => e.EventType).ToList();
        Assert.Equal(["message_start", "content_block_start", "ping"], names[..3]);
        Assert.Equal(["content_block_stop", "message_delta", "message_stop"], names[^3..]);
        var start = JsonNode.Parse(events[1].Data)!["content_block"]!;
        Assert.Equal("tool_use", (string?)start["type"]);
        Assert.StartsWith("toolu_", (string?)start["id"]);
        Assert.Equal("get_weather", (string?)start["name"]);
        Assert.Empty(start["input"]!.AsObject());

        var deltas = events[3..^3].Select(e => JsonNode.Parse(e.Data)!["delta"]!).ToList();
        Assert.All(deltas, d => Assert.Equal("input_json_delta", (string?)d["type"]));
        Assert.True(deltas.Count > 3);
        Assert.True(JsonNode.DeepEquals(ExpectedArguments, JsonNode.Parse(string.Concat(deltas.Select(d => (string)d["partial_json"]!)))));

        var messageDelta = JsonNode.Parse(events[^2].Data)!;
        Assert.Equal("tool_use", (string?)messageDelta["delta"]!["stop_reason"]);
        Assert.Equal(deltas.Count(d => ((string)d["partial_json"]!).Length > 0), (int)messageDelta["usage"]!["output_tokens"]!);
    }

    [Fact]
    public async Task Anthropic_tool_result_gets_a_text_answer_that_mentions_it_and_the_text_switch_works()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var url = mock.AnthropicUrl + "/messages";
        var (_, call, _) = await SendAsync(AnthropicRequest(url, AnthropicBody()));
        var toolUse = call!["content"]![0]!;

        var roundTrip = AnthropicBody();
        roundTrip["messages"]!.AsArray().Add(new JsonObject { ["role"] = "assistant", ["content"] = new JsonArray(toolUse.DeepClone()) });
        roundTrip["messages"]!.AsArray().Add(new JsonObject
        {
            ["role"] = "user",
            ["content"] = new JsonArray(new JsonObject
            {
                ["type"] = "tool_result", ["tool_use_id"] = (string?)toolUse["id"],
                ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "Sunny, 21 degrees" }),
            }),
        });
        var (_, answer, _) = await SendAsync(AnthropicRequest(url, roundTrip));
        Assert.Equal("end_turn", (string?)answer!["stop_reason"]);
        Assert.StartsWith("The tool returned: \"Sunny, 21 degrees\"", (string?)answer["content"]![0]!["text"]);

        foreach (var (body, fault) in new (JsonObject, string?)[]
        {
            (AnthropicBody(toolChoice: JsonNode.Parse("""{"type":"none"}""")), null),
            (AnthropicBody("Just talk mock:no_tools"), null),
            (AnthropicBody(), MockTools.TextSwitchFault),
        })
        {
            var (_, json, _) = await SendAsync(AnthropicRequest(url, body, fault: fault));
            Assert.Equal("end_turn", (string?)json!["stop_reason"]);
            Assert.Equal("text", (string?)json["content"]![0]!["type"]);
        }
    }
}
