using System.Text;
using Aggregator.Web.Upstream;
using Microsoft.AspNetCore.Http.Features;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// <c>POST /v1/chat/completions</c> on the chat's router (<see cref="IChatRouter"/>): same resolution,
/// key rotation, failover, usage recording and tier quotas. Refusals before the upstream answered get
/// a proper status; once a stream has started, a failure ends it with an OpenAI-style error event and
/// no <c>[DONE]</c>.
/// </summary>
public static class ChatCompletions
{
    public static async Task<IResult> HandleAsync(HttpContext http, ApiCatalog catalog, IChatRouter router)
    {
        var caller = http.Features.GetRequiredFeature<ApiCaller>();
        var ct = http.RequestAborted;
        var body = ChatCompletionBody.Parse((await ApiBody.ReadAsync(http.Request, ct)).Span);
        var model = await catalog.ResolveAsync(caller, body.Model, ct);

        var request = body.ToRequest(caller, model.Model.Id);
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        // The first event (the route, after failover settled) decides between an HTTP error and a reply.
        var events = router.StreamAsync(request, ct).GetAsyncEnumerator(ct);
        try
        {
            try
            {
                if (!await events.MoveNextAsync()) throw new RouterException(RouterError.UpstreamFailed, "The upstream sent nothing.");
            }
            catch (RouterException ex)
            {
                return ApiError.From(ex);
            }
            var reply = new CompletionWriter(id, created, model.Id);
            if (body.Stream) await StreamAsync(http, events, reply, body.IncludeUsage, ct);
            else return await CollectAsync(events, reply);
            return Results.Empty;
        }
        finally
        {
            await events.DisposeAsync();
        }
    }

    static async Task StreamAsync(HttpContext http, IAsyncEnumerator<StreamEvent> events, CompletionWriter reply, bool includeUsage, CancellationToken ct)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // reverse proxies: pass chunks on as they come
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var output = response.BodyWriter;

        // The role opens the reply with its first piece (already buffered by the router, so this costs no time):
        // a tool call opens with "content": null and the call in the same chunk, as OpenAI sends it.
        var opened = false;
        var tools = new StreamedToolCalls();
        try
        {
            do
            {
                switch (events.Current)
                {
                    case ContentDelta { Text.Length: > 0 } d:
                        Open();
                        reply.Chunk(output, content: d.Text);
                        await output.FlushAsync(ct);
                        break;
                    case ReasoningDelta { Text.Length: > 0 } r:
                        Open();
                        reply.Chunk(output, reasoning: r.Text);
                        await output.FlushAsync(ct);
                        break;
                    case ToolCallDelta t:
                        var (open, fragment) = tools.Add(t);
                        if (open is not null)
                        {
                            reply.Chunk(output, role: !opened, nullContent: !opened, tool: open);
                            opened = true;
                        }
                        if (fragment is not null) reply.Chunk(output, tool: fragment);
                        await output.FlushAsync(ct);
                        break;
                    case StreamCompleted c:
                        Open();
                        reply.Chunk(output, finish: tools.FinishReason(c.FinishReason));
                        if (includeUsage) reply.UsageChunk(output, c.Usage);
                        CompletionWriter.Done(output);
                        await output.FlushAsync(ct);
                        return;
                }
            } while (await events.MoveNextAsync());
            throw new RouterException(RouterError.Interrupted, "The upstream stream ended without finishing.");
        }
        catch (RouterException ex)
        {
            // Headers are gone: the failure becomes the stream's last event, and no [DONE] follows.
            CompletionWriter.ErrorEvent(output, ApiError.From(ex));
            await output.FlushAsync(CancellationToken.None);
        }

        void Open()
        {
            if (opened) return;
            reply.Chunk(output, role: true, content: "");
            opened = true;
        }
    }

    static async Task<IResult> CollectAsync(IAsyncEnumerator<StreamEvent> events, CompletionWriter reply)
    {
        var text = new StringBuilder();
        StringBuilder? reasoning = null;
        var tools = new StreamedToolCalls();
        try
        {
            do
            {
                switch (events.Current)
                {
                    case ContentDelta d:
                        text.Append(d.Text);
                        break;
                    case ReasoningDelta r:
                        (reasoning ??= new()).Append(r.Text);
                        break;
                    case ToolCallDelta t:
                        tools.Add(t);
                        break;
                    case StreamCompleted c:
                        return new CompletionResult(reply, text.ToString(), reasoning?.ToString(), tools.Assembled(),
                            c with { FinishReason = tools.FinishReason(c.FinishReason) });
                }
            } while (await events.MoveNextAsync());
            return ApiError.From(new RouterException(RouterError.Interrupted, "The upstream stream ended without finishing."));
        }
        catch (RouterException ex)
        {
            return ApiError.From(ex);
        }
    }

    sealed class CompletionResult(CompletionWriter reply, string content, string? reasoning, List<ToolCall> tools, StreamCompleted completed) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status200OK;
            httpContext.Response.ContentType = "application/json";
            reply.Completion(httpContext.Response.BodyWriter, content, reasoning, tools, completed);
            await httpContext.Response.BodyWriter.FlushAsync(httpContext.RequestAborted);
        }
    }
}
