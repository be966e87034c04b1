using System.Text.Json.Nodes;

namespace Aggregator.MockUpstream;

/// <summary>The JSON of an Anthropic answer: the whole message, and the data of each stream event.</summary>
internal sealed class AnthropicEvents(MockRequest request, string model, ReplyPlan plan)
{
    readonly string _id = "msg_" + Guid.NewGuid().ToString("N")[..24];
    readonly bool _strings = request.Faults.Has("numbers_as_strings");

    string StopReason => plan.ToolCall is not null ? "tool_use" : plan.Truncated ? "max_tokens" : "end_turn";

    public JsonObject Message()
    {
        var content = new JsonArray();
        if (plan.Reasoning.Count > 0)
            content.Add(new JsonObject { ["type"] = "thinking", ["thinking"] = plan.ReasoningText, ["signature"] = Signature });
        content.Add(plan.ToolCall is { } call
            ? new JsonObject { ["type"] = "tool_use", ["id"] = call.Id, ["name"] = call.Name, ["input"] = call.Input.DeepClone() }
            : new JsonObject { ["type"] = "text", ["text"] = plan.Text });
        var message = Envelope(content, StopReason);
        message["usage"] = Usage(plan.CompletionTokens);
        return message;
    }

    public string MessageStart()
    {
        var message = Envelope([], null);
        message["usage"] = Usage(1);
        return MockJson.Write(new JsonObject { ["type"] = "message_start", ["message"] = message });
    }

    public string BlockStart(int index, bool thinking) => MockJson.Write(new JsonObject
    {
        ["type"] = "content_block_start",
        ["index"] = index,
        ["content_block"] = thinking
            ? new JsonObject { ["type"] = "thinking", ["thinking"] = "" }
            : new JsonObject { ["type"] = "text", ["text"] = "" },
    });

    /// <summary>Opens the tool_use block with an empty input; the input follows as JSON text fragments.</summary>
    public string ToolUseStart(int index, MockToolCall call) => MockJson.Write(new JsonObject
    {
        ["type"] = "content_block_start",
        ["index"] = index,
        ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = call.Id, ["name"] = call.Name, ["input"] = new JsonObject() },
    });

    public string InputJsonDelta(int index, string partialJson) => Delta(index, new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = partialJson });

    public string TextDelta(int index, string text) => Delta(index, new JsonObject { ["type"] = "text_delta", ["text"] = text });

    public string ThinkingDelta(int index, string text) => Delta(index, new JsonObject { ["type"] = "thinking_delta", ["thinking"] = text });

    public string SignatureDelta(int index) => Delta(index, new JsonObject { ["type"] = "signature_delta", ["signature"] = Signature });

    public string BlockStop(int index) => MockJson.Write(new JsonObject { ["type"] = "content_block_stop", ["index"] = index });

    /// <summary>Stop reason and the cumulative output tokens (usage left out by <c>usage_missing</c>).</summary>
    public string MessageDelta()
    {
        var delta = new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = StopReason, ["stop_sequence"] = null },
        };
        if (!request.Faults.Has("usage_missing"))
            delta["usage"] = new JsonObject { ["output_tokens"] = MockJson.Number(plan.CompletionTokens, _strings) };
        return MockJson.Write(delta);
    }

    public string OverloadedError() => MockJson.Write(new JsonObject
    {
        ["type"] = "error",
        ["error"] = new JsonObject { ["type"] = "overloaded_error", ["message"] = MockError.Overloaded.Echoing(request.EchoedKey).AnthropicMessage ?? "Overloaded" },
    });

    const string Signature = "EqQBCkYIARgCIkBtb2NrLXNpZ25hdHVyZQ==";

    string Delta(int index, JsonObject delta) => MockJson.Write(new JsonObject
    {
        ["type"] = "content_block_delta", ["index"] = index, ["delta"] = delta,
    });

    JsonObject Envelope(JsonArray content, string? stopReason) => new()
    {
        ["id"] = _id,
        ["type"] = "message",
        ["role"] = "assistant",
        ["model"] = model,
        ["content"] = content,
        ["stop_reason"] = stopReason,
        ["stop_sequence"] = null,
    };

    JsonObject Usage(int output) => new()
    {
        ["input_tokens"] = MockJson.Number(plan.PromptTokens, _strings),
        ["cache_creation_input_tokens"] = MockJson.Number(0, _strings),
        ["cache_read_input_tokens"] = MockJson.Number(0, _strings),
        ["output_tokens"] = MockJson.Number(output, _strings),
    };
}
