using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Aggregator.MockUpstream;

/// <summary><c>POST /anthropic/v1/messages</c>: the Messages API, JSON or named SSE events.</summary>
internal static class AnthropicMessages
{
    public static async Task HandleAsync(HttpContext http, MockUpstreamState state)
    {
        var request = await MockRequest.ReadAsync(http, MockRoot.Anthropic, state);
        if (await request.AnsweredByFaultAsync(keyRequired: true)) return;
        if (!request.BodyIsValidJson) { await request.ErrorAsync(MockError.BadJson(MockRoot.Anthropic)); return; }
        if (request.Model is not { Length: > 0 } model) { await request.ErrorAsync(MockError.MissingModel); return; }
        if (request.Json!["messages"] is not JsonArray) { await request.ErrorAsync(MockError.MissingMessages); return; }
        if (OpenAIChat.IntOf(request.Json["max_tokens"]) is not { } maxTokens) { await request.ErrorAsync(MockError.MissingMaxTokens); return; }
        if (maxTokens < 1) { await request.ErrorAsync(MockError.BadParameter("max_tokens: Input should be greater than or equal to 1")); return; }
        if (!ModelLists.Serves(state, MockRoot.Anthropic, model)) { await request.ErrorAsync(MockError.ModelNotFound(model)); return; }
        if (request.BrokenImage is { } broken) { await request.ErrorAsync(broken); return; }

        var plan = ReplyPlan.For(request, model, maxTokens);
        var events = new AnthropicEvents(request, model, plan);
        if (request.Stream) await StreamAsync(request, events, plan);
        else
        {
            await OpenAIChat.Delay(plan.FirstDelay + plan.PerToken * plan.CompletionTokens, request.Aborted);
            await request.JsonAsync(events.Message());
        }
    }

    static async Task StreamAsync(MockRequest request, AnthropicEvents events, ReplyPlan plan)
    {
        var faults = request.Faults;
        var sse = new SseWriter(request);
        await sse.StartAsync();
        var comments = faults.Has("comments");
        if (comments) await sse.CommentAsync("keep-alive");
        await OpenAIChat.Delay(plan.FirstDelay, request.Aborted);
        await sse.EventAsync("message_start", events.MessageStart());

        var index = 0;
        if (plan.Reasoning.Count > 0)
        {
            await sse.EventAsync("content_block_start", events.BlockStart(index, thinking: true));
            foreach (var token in plan.Reasoning)
            {
                await OpenAIChat.Delay(plan.PerToken, request.Aborted);
                await sse.EventAsync("content_block_delta", events.ThinkingDelta(index, token));
            }
            await sse.EventAsync("content_block_delta", events.SignatureDelta(index));
            await sse.EventAsync("content_block_stop", events.BlockStop(index));
            index++;
        }
        // A tool_use block streams its input as JSON fragments where a text block streams its tokens.
        var call = plan.ToolCall;
        await sse.EventAsync("content_block_start", call is not null ? events.ToolUseStart(index, call) : events.BlockStart(index, thinking: false));
        await sse.EventAsync("ping", """{"type":"ping"}""");
        if (call is not null) await sse.EventAsync("content_block_delta", events.InputJsonDelta(index, ""));

        var pieces = call?.Fragments.Count ?? plan.Tokens.Count;
        var dropAfter = faults.Argument("drop_after");
        var errorAfter = faults.Has("error_event") || faults.Has("error_event_openrouter") ? Math.Min(3, pieces) : -1;
        var endless = faults.Has("endless") && plan.Tokens.Count > 0;
        var sent = 0;
        for (var i = 0; i < pieces || endless; i++)
        {
            if (sent == dropAfter) { await request.BreakConnectionAsync(); return; }
            if (sent == errorAfter) { await sse.EventAsync("error", events.OverloadedError()); return; }
            await OpenAIChat.Delay(endless ? TimeSpan.FromMilliseconds(100) : plan.PerToken, request.Aborted);
            await sse.EventAsync("content_block_delta", call is not null
                ? events.InputJsonDelta(index, call.Fragments[i])
                : events.TextDelta(index, plan.Tokens[i % plan.Tokens.Count]));
            sent++;
            if (comments && i % 10 == 5)
            {
                // Keep-alives: an SSE comment and an extra ping, both of which clients must skip.
                await sse.CommentAsync("keep-alive");
                await sse.EventAsync("ping", """{"type":"ping"}""");
            }
        }
        if (sent == dropAfter) { await request.BreakConnectionAsync(); return; }

        await sse.EventAsync("content_block_stop", events.BlockStop(index));
        if (faults.Has("no_finish")) return;
        await sse.EventAsync("message_delta", events.MessageDelta());
        if (!faults.Has("no_done")) await sse.EventAsync("message_stop", """{"type":"message_stop"}""");
    }
}
