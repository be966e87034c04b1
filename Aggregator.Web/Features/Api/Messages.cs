using Aggregator.Web.Upstream;
using Microsoft.AspNetCore.Http.Features;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// <c>POST /v1/messages</c>, Anthropic's Messages API, on the chat's router (<see cref="IChatRouter"/>) like
/// <c>/v1/chat/completions</c>: same token, model resolution, rate limits, key rotation, failover and usage
/// recording. An Anthropic-standard upstream gets the caller's body as it came; any other gets it translated.
/// Errors are Anthropic's (the endpoint carries <see cref="CallerStandard.Anthropic"/>); once a stream has
/// started, a failure ends it with <c>event: error</c>.
/// </summary>
public static class Messages
{
    public static async Task<IResult> HandleAsync(HttpContext http, ApiCatalog catalog, IChatRouter router)
    {
        var caller = http.Features.GetRequiredFeature<ApiCaller>();
        var ct = http.RequestAborted;
        var body = MessagesBody.Parse((await ApiBody.ReadAsync(http.Request, ct)).Span);
        var model = await catalog.ResolveAsync(caller, body.Model, ct);

        var request = body.ToRequest(caller, model.Model.Id);
        var reply = new MessageWriter("msg_" + Guid.NewGuid().ToString("N")[..24], model.Id);

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
            if (!body.Stream) return await CollectAsync(events, reply);
            await StreamAsync(http, events, reply, EstimatedInputTokens(request), ct);
            return Results.Empty;
        }
        finally
        {
            await events.DisposeAsync();
        }
    }

    static async Task StreamAsync(HttpContext http, IAsyncEnumerator<StreamEvent> events, MessageWriter reply, int inputTokens, CancellationToken ct)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // reverse proxies: pass chunks on as they come
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var output = response.BodyWriter;

        reply.Start(output, inputTokens);
        await output.FlushAsync(ct);
        try
        {
            do
            {
                switch (events.Current)
                {
                    case ContentDelta { Text.Length: > 0 } d: reply.Text(output, d.Text); break;
                    case ReasoningDelta { Text.Length: > 0 } r: reply.Thinking(output, r.Text); break;
                    case ToolCallDelta t: reply.Tool(output, t); break;
                    case StreamCompleted c:
                        reply.Finish(output, c);
                        await output.FlushAsync(ct);
                        return;
                    default: continue; // nothing written, nothing to flush
                }
                await output.FlushAsync(ct);
            } while (await events.MoveNextAsync());
            throw new RouterException(RouterError.Interrupted, "The upstream stream ended without finishing.");
        }
        catch (RouterException ex)
        {
            // Headers are gone: the failure becomes the stream's last event.
            MessageWriter.Error(output, ApiError.From(ex));
            await output.FlushAsync(CancellationToken.None);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // Not the router's: still no silent end for the caller; the host logs what it was.
            MessageWriter.Error(output, ApiError.Internal());
            await output.FlushAsync(CancellationToken.None);
            throw;
        }
    }

    static async Task<IResult> CollectAsync(IAsyncEnumerator<StreamEvent> events, MessageWriter reply)
    {
        var content = new MessageContent();
        try
        {
            do
            {
                if (events.Current is StreamCompleted c) return new MessageResult(reply, content, c);
                content.Add(events.Current);
            } while (await events.MoveNextAsync());
            return ApiError.From(new RouterException(RouterError.Interrupted, "The upstream stream ended without finishing."));
        }
        catch (RouterException ex)
        {
            return ApiError.From(ex);
        }
    }

    /// <summary>message_start must carry input tokens before the upstream counted them: about four characters a token.</summary>
    static int EstimatedInputTokens(ChatRequest request)
    {
        var chars = request.System?.Length ?? 0;
        foreach (var turn in request.Messages) chars += turn.Content.Length + 4;
        return (chars + 3) / 4;
    }

    sealed class MessageResult(MessageWriter reply, MessageContent content, StreamCompleted completed) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status200OK;
            httpContext.Response.ContentType = "application/json";
            reply.Message(httpContext.Response.BodyWriter, content, completed);
            await httpContext.Response.BodyWriter.FlushAsync(httpContext.RequestAborted);
        }
    }
}
