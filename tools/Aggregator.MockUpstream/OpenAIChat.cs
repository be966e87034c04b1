using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Aggregator.MockUpstream;

/// <summary><c>POST …/chat/completions</c> for the OpenAI, OpenRouter and AiHubMix roots.</summary>
internal static class OpenAIChat
{
    public static async Task HandleAsync(HttpContext http, MockRoot root, MockUpstreamState state)
    {
        var request = await MockRequest.ReadAsync(http, root, state);
        if (await request.AnsweredByFaultAsync(keyRequired: true)) return;
        if (!request.BodyIsValidJson) { await request.ErrorAsync(MockError.BadJson(root)); return; }
        if (request.Model is not { Length: > 0 } model) { await request.ErrorAsync(MockError.MissingModel); return; }
        if (request.Json!["messages"] is not JsonArray) { await request.ErrorAsync(MockError.MissingMessages); return; }
        if (!ModelLists.Serves(state, root, model)) { await request.ErrorAsync(MockError.ModelNotFound(model)); return; }
        if (request.BrokenImage is { } broken) { await request.ErrorAsync(broken); return; }

        var maxTokens = IntOf(request.Json["max_completion_tokens"]) ?? IntOf(request.Json["max_tokens"]);
        var plan = ReplyPlan.For(request, model, maxTokens);
        var chunks = new OpenAIChunks(request, model, plan);
        if (request.Stream) await StreamAsync(request, chunks, plan);
        else
        {
            await Delay(plan.FirstDelay + plan.PerToken * plan.CompletionTokens, request.Aborted);
            await request.JsonAsync(chunks.Completion());
        }
    }

    static async Task StreamAsync(MockRequest request, OpenAIChunks chunks, ReplyPlan plan)
    {
        var faults = request.Faults;
        var sse = new SseWriter(request);
        await sse.StartAsync();
        var comments = faults.Has("comments");
        var emptyChoices = faults.Has("empty_choices");
        if (comments) await sse.CommentAsync("OPENROUTER PROCESSING");
        await Delay(plan.FirstDelay, request.Aborted);
        if (emptyChoices) await sse.DataAsync(chunks.Empty());
        await sse.DataAsync(chunks.Role());

        var dropAfter = faults.Argument("drop_after");
        // A tool call streams its argument fragments where a text answer streams its tokens; faults cut either.
        var toolFragments = plan.ToolCall?.Fragments;
        var pieces = toolFragments?.Count ?? plan.Tokens.Count;
        var errorAfter = faults.Has("error_event") || faults.Has("error_event_openrouter") ? Math.Min(3, pieces) : -1;
        var sent = 0;
        foreach (var reasoning in plan.Reasoning)
        {
            await Delay(plan.PerToken, request.Aborted);
            await sse.DataAsync(chunks.Reasoning(reasoning));
        }
        if (plan.ToolCall is { } call && plan.Reasoning.Count > 0) await sse.DataAsync(chunks.ToolOpening(call));
        var endless = faults.Has("endless") && plan.Tokens.Count > 0;
        for (var i = 0; i < pieces || endless; i++)
        {
            if (sent == dropAfter) { await request.BreakConnectionAsync(); return; }
            if (sent == errorAfter)
            {
                await sse.DataAsync(faults.Has("error_event_openrouter") ? chunks.OpenRouterError() : chunks.OpenAIError());
                return;
            }
            await Delay(endless ? TimeSpan.FromMilliseconds(100) : plan.PerToken, request.Aborted);
            await sse.DataAsync(toolFragments is not null ? chunks.ToolArguments(toolFragments[i]) : chunks.Content(plan.Tokens[i % plan.Tokens.Count]));
            sent++;
            if (i % 10 == 5)
            {
                if (comments) await sse.CommentAsync("OPENROUTER PROCESSING");
                if (emptyChoices) await sse.DataAsync(chunks.Empty());
            }
        }
        if (sent == dropAfter) { await request.BreakConnectionAsync(); return; }

        var includeUsage = request.Json!["stream_options"]?["include_usage"] is JsonValue v && v.TryGetValue(out bool b) && b;
        var usageMissing = faults.Has("usage_missing");
        var usageOnFinish = faults.Has("usage_on_finish") && !usageMissing;
        if (!faults.Has("no_finish")) await sse.DataAsync(chunks.Finish(usageOnFinish));
        if (!usageMissing && !usageOnFinish && (includeUsage || faults.Has("usage_last_only")))
            await sse.DataAsync(chunks.Usage());
        if (!faults.Has("no_done")) await sse.DoneAsync();
    }

    internal static int? IntOf(JsonNode? node) => node is JsonValue v && v.TryGetValue(out int i) ? i : null;

    internal static Task Delay(TimeSpan delay, CancellationToken ct) => delay > TimeSpan.Zero ? Task.Delay(delay, ct) : Task.CompletedTask;
}
