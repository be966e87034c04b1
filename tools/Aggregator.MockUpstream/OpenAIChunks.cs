using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aggregator.MockUpstream;

/// <summary>The JSON objects of an OpenAI-style answer: whole completion, and each kind of stream chunk.</summary>
internal sealed class OpenAIChunks(MockRequest request, string model, ReplyPlan plan)
{
    readonly string _id = "chatcmpl-" + Guid.NewGuid().ToString("N")[..24];
    readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    readonly bool _strings = request.Faults.Has("numbers_as_strings");
    /// <summary>DeepSeek and most one-api relays say reasoning_content; OpenRouter says reasoning.</summary>
    readonly string _reasoningField = request.Root == MockRoot.OpenRouter ? "reasoning" : "reasoning_content";

    string FinishReason => plan.ToolCall is not null ? "tool_calls" : plan.Truncated ? "length" : "stop";

    public JsonObject Completion()
    {
        var message = plan.ToolCall is { } call
            ? new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new JsonArray(ToolCall(call, call.Arguments, withIndex: false)), ["refusal"] = null }
            : new JsonObject { ["role"] = "assistant", ["content"] = plan.Text, ["refusal"] = null };
        if (plan.Reasoning.Count > 0) message[_reasoningField] = plan.ReasoningText;
        var body = new JsonObject
        {
            ["id"] = _id,
            ["object"] = "chat.completion",
            ["created"] = MockJson.Number(_created, _strings),
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0, ["message"] = message, ["logprobs"] = null, ["finish_reason"] = FinishReason,
            }),
        };
        if (!request.Faults.Has("usage_missing")) body["usage"] = UsageObject();
        body["system_fingerprint"] = "fp_mock";
        return body;
    }

    /// <summary>
    /// The first chunk; for a tool call it also opens the call (id, name, empty arguments), as OpenAI does,
    /// unless reasoning comes first: then the call opens after it (<see cref="ToolOpening"/>).
    /// </summary>
    public string Role() => plan.ToolCall is { } call && plan.Reasoning.Count == 0
        ? Chunk(new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new JsonArray(ToolCall(call, "", withIndex: true)), ["refusal"] = null }, null)
        : Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null);

    /// <summary>Opens the tool call after reasoning chunks: index, id, type and name, empty arguments.</summary>
    public string ToolOpening(MockToolCall call) => Chunk(new JsonObject { ["tool_calls"] = new JsonArray(ToolCall(call, "", withIndex: true)) }, null);

    /// <summary>One fragment of the call's arguments: only index and the text, to be concatenated per index.</summary>
    public string ToolArguments(string fragment) => Chunk(new JsonObject
    {
        ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = 0, ["function"] = new JsonObject { ["arguments"] = fragment } }),
    }, null);

    static JsonObject ToolCall(MockToolCall call, string arguments, bool withIndex)
    {
        var json = new JsonObject();
        if (withIndex) json["index"] = 0;
        json["id"] = call.Id;
        json["type"] = "function";
        json["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = arguments };
        return json;
    }

    /// <summary>The hot path of every stream: one token in a pre-rendered chunk.</summary>
    public string Content(string token)
    {
        if (_contentTemplate is null)
        {
            var sample = Chunk(new JsonObject { ["content"] = "\u0001" }, null);
            var at = sample.IndexOf("\"\\u0001\"", StringComparison.Ordinal);
            _contentTemplate = (sample[..at], sample[(at + 8)..]);
        }
        return _contentTemplate.Value.Prefix + JsonSerializer.Serialize(token, MockJson.Options) + _contentTemplate.Value.Suffix;
    }

    (string Prefix, string Suffix)? _contentTemplate;

    public string Reasoning(string token) => Chunk(new JsonObject { [_reasoningField] = token }, null);

    public string Finish(bool withUsage) => Chunk(new JsonObject(), FinishReason, withUsage ? UsageObject() : null);

    /// <summary>The usage chunk: <c>choices</c> is always empty.</summary>
    public string Usage() => Write(new JsonArray(), UsageObject());

    /// <summary>An init / keep-alive chunk with no choices at all (the classic crash).</summary>
    public string Empty() => Write(new JsonArray(), null);

    public string OpenAIError() => MockJson.Write(new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["message"] = MockError.ServerError.Echoing(request.EchoedKey).Message,
            ["type"] = "server_error", ["param"] = null, ["code"] = null,
        },
    });

    /// <summary>OpenRouter's mid-stream error: top-level error plus a choice finishing with "error".</summary>
    public string OpenRouterError()
    {
        var chunk = Envelope(new JsonArray(new JsonObject
        {
            ["index"] = 0, ["delta"] = new JsonObject { ["content"] = "" }, ["finish_reason"] = "error",
        }), null);
        chunk["provider"] = "mock";
        chunk["error"] = new JsonObject { ["code"] = "server_error", ["message"] = (MockError.ServerError with { Message = "Provider disconnected unexpectedly" }).Echoing(request.EchoedKey).Message };
        return MockJson.Write(chunk);
    }

    string Chunk(JsonObject delta, string? finishReason, JsonObject? usage = null) =>
        Write(new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finishReason }), usage);

    string Write(JsonArray choices, JsonObject? usage) => MockJson.Write(Envelope(choices, usage));

    JsonObject Envelope(JsonArray choices, JsonObject? usage) => new()
    {
        ["id"] = _id,
        ["object"] = "chat.completion.chunk",
        ["created"] = MockJson.Number(_created, _strings),
        ["model"] = model,
        ["system_fingerprint"] = "fp_mock",
        ["choices"] = choices,
        ["usage"] = usage,
    };

    JsonObject UsageObject()
    {
        var completion = plan.CompletionTokens;
        var usage = new JsonObject
        {
            ["prompt_tokens"] = MockJson.Number(plan.PromptTokens, _strings),
            ["completion_tokens"] = MockJson.Number(completion, _strings),
            ["total_tokens"] = MockJson.Number(plan.PromptTokens + completion, _strings),
        };
        if (plan.Reasoning.Count > 0)
            usage["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = MockJson.Number(plan.Reasoning.Count, _strings) };
        return usage;
    }
}
