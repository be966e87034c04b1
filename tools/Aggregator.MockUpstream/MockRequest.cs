using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Aggregator.MockUpstream;

/// <summary>One received request, parsed once: key, JSON body, faults; plus the ways to answer it.</summary>
internal sealed class MockRequest
{
    public required HttpContext Http { get; init; }
    public required MockRoot Root { get; init; }
    public required MockUpstreamState State { get; init; }
    public required string Body { get; init; }
    /// <summary>The parsed body; null when absent or not a JSON object.</summary>
    public JsonObject? Json { get; init; }
    public bool BodyIsValidJson { get; init; }
    public string? ApiKey { get; init; }
    public string? LastUserText { get; init; }
    /// <summary>The text of the tool result the conversation ends with (OpenAI role <c>tool</c>, Anthropic <c>tool_result</c>), or null.</summary>
    public string? ToolResultText { get; init; }
    public IReadOnlyList<ReceivedImage> Images { get; init; } = [];
    /// <summary>The first image part a provider would refuse (broken data URL, bad media type), as its 400.</summary>
    public MockError? BrokenImage { get; init; }
    public MockFaults Faults { get; init; } = MockFaults.None;
    public string RequestId { get; } = "req_" + Guid.NewGuid().ToString("N")[..24];
    public Random Random { get; } = new(42);

    public CancellationToken Aborted => Http.RequestAborted;

    /// <summary>What error texts say about the key: all of it (<c>echo_key</c>), pieces of it (<c>echo_key_fragment</c>), or nothing.</summary>
    public string? EchoedKey => ApiKey is not { } key ? null
        : Faults.Has("echo_key") ? key
        : Faults.Has("echo_key_fragment") ? MockError.Fragments(key)
        : null;
    public bool Stream => Json?["stream"] is JsonValue v && v.TryGetValue(out bool s) && s;
    public string? Model => Json?["model"] is JsonValue v && v.TryGetValue(out string? m) ? m : null;

    public static async Task<MockRequest> ReadAsync(HttpContext http, MockRoot root, MockUpstreamState state)
    {
        string body;
        using (var reader = new StreamReader(http.Request.Body, Encoding.UTF8))
            body = await reader.ReadToEndAsync(http.RequestAborted);

        JsonObject? json = null;
        var valid = false;
        if (body.Length > 0)
        {
            try { json = JsonNode.Parse(body) as JsonObject; valid = json is not null; }
            catch (JsonException) { }
        }

        var key = KeyOf(http.Request, root);
        var lastUser = json is null ? null : LastUserMessage(json);
        var headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var (images, brokenImage) = MockImages.Read(json, root);
        var received = new ReceivedRequest(http.Request.Path, http.Request.Method, headers, body, key, DateTimeOffset.UtcNow) { Images = images };
        http.RequestAborted.Register(received.MarkCancelled);
        state.Record(received);

        return new MockRequest
        {
            Http = http, Root = root, State = state, Body = body, Json = json, BodyIsValidJson = valid, ApiKey = key,
            LastUserText = lastUser,
            ToolResultText = json is null ? null : MockTools.ResultText(json, root),
            Images = images, BrokenImage = brokenImage,
            Faults = MockFaults.Resolve(http.Request.Headers[MockFaults.Header], lastUser, key, state),
        };
    }

    static string? KeyOf(HttpRequest request, MockRoot root)
    {
        if (root == MockRoot.Anthropic)
            return request.Headers["x-api-key"].ToString() is { Length: > 0 } k ? k.Trim() : null;
        var auth = request.Headers.Authorization.ToString();
        return auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && auth[7..].Trim() is { Length: > 0 } bearer ? bearer : null;
    }

    /// <summary>Text of a message's content: a string, or the text parts of a content array.</summary>
    public static string TextOf(JsonNode? content) => content switch
    {
        JsonValue v when v.TryGetValue(out string? s) => s ?? "",
        JsonArray parts => string.Concat(parts.Select(p => p?["text"] is JsonValue t && t.TryGetValue(out string? s) ? s : "")),
        _ => "",
    };

    static string? LastUserMessage(JsonObject json) =>
        json["messages"] is JsonArray messages
            ? messages.LastOrDefault(m => m?["role"] is JsonValue r && r.TryGetValue(out string? role) && role == "user") is { } last
                ? TextOf(last["content"]) : null
            : null;

    /// <summary>All the prompt text (system and messages), for usage numbers.</summary>
    public int PromptCharacters()
    {
        if (Json is null) return 0;
        var total = TextOf(Json["system"]).Length;
        if (Json["messages"] is JsonArray messages)
            total += messages.Sum(m => TextOf(m?["content"]).Length);
        return total;
    }

    /// <summary>
    /// Auth, then the faults that replace the whole answer. Returns true when the request has been answered.
    /// </summary>
    public async Task<bool> AnsweredByFaultAsync(bool keyRequired)
    {
        if (keyRequired && ApiKey is null)
        {
            await ErrorAsync(MockError.MissingKey(Root));
            return true;
        }
        if (Root == MockRoot.Anthropic && keyRequired && string.IsNullOrEmpty(Http.Request.Headers["anthropic-version"]))
        {
            await ErrorAsync(MockError.MissingVersion);
            return true;
        }
        if (Faults.Has("reset"))
        {
            Http.Abort();
            return true;
        }
        if (Faults.Has("hang") || Faults.Has("endless") && !Stream)
        {
            try { await Task.Delay(Timeout.Infinite, Aborted); } catch (OperationCanceledException) { }
            return true;
        }
        if (Faults.HttpError is { } fault)
        {
            if (fault.Name == "429")
                Http.Response.Headers.RetryAfter = (fault.Argument ?? 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            // A gateway timeout comes after the gateway waited.
            if (fault.Name == "504" && fault.Argument is { } wait)
                try { await Task.Delay(wait, Aborted); } catch (OperationCanceledException) { return true; }
            await ErrorAsync(MockError.ForFault(fault, ApiKey, Model ?? "unknown-model"));
            return true;
        }
        if (Faults.Has("garbage"))
        {
            await TextAsync(200, "text/html; charset=utf-8",
                "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n");
            return true;
        }
        if (Faults.Has("error_200") || Faults.Has("error_200_raw"))
        {
            await Error200Async();
            return true;
        }
        return false;
    }

    /// <summary>HTTP 200 carrying an error before any token (what aggregators do when the failure is upstream of them).</summary>
    async Task Error200Async()
    {
        var error = (MockError.ServerError with { Message = "Upstream provider returned an error: The server had an error while processing your request." })
            .Echoing(EchoedKey);
        var body = MockJson.Write(error.Body(Root, RequestId));
        if (!Stream || Faults.Has("error_200_raw"))
        {
            await TextAsync(200, Stream ? "text/event-stream; charset=utf-8" : "application/json", body);
            return;
        }
        var sse = new SseWriter(this);
        await sse.StartAsync();
        if (Root == MockRoot.Anthropic) await sse.EventAsync("error", body);
        else await sse.DataAsync(body);
    }

    public Task ErrorAsync(MockError error)
    {
        error = error.Echoing(EchoedKey);
        var status = error.StatusFor(Root);
        if (EchoedKey is { } echoed)
        {
            // The status line is the gateway's text too (HTTP/1.1 only; ASCII only).
            var reason = $"{ReasonPhrases.GetReasonPhrase(status)} for key {echoed.Replace("…", "...")}";
            Http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseFeature>()!.ReasonPhrase = reason;
        }
        return TextAsync(status, "application/json", MockJson.Write(error.Body(Root, RequestId)));
    }

    /// <summary>A complete JSON answer, with the quirks that apply to whole bodies.</summary>
    public Task JsonAsync(JsonNode body) => JsonAsync(Encoding.UTF8.GetBytes(MockJson.Write(body)));

    public async Task JsonAsync(byte[] body)
    {
        PrepareHeaders(200, "application/json");
        if (Faults.Has("leading_blank_lines")) await Http.Response.Body.WriteAsync("\n\n\n\n"u8.ToArray(), Aborted);
        if (Faults.Argument("drop_after") is not null)
        {
            // Half a body, then the connection dies.
            await Http.Response.Body.WriteAsync(body.AsMemory(0, body.Length / 2), Aborted);
            await Http.Response.Body.FlushAsync(Aborted);
            await BreakConnectionAsync();
            return;
        }
        await Http.Response.Body.WriteAsync(body, Aborted);
    }

    /// <summary>Aborts the connection after giving what was already written time to reach the client.</summary>
    public async Task BreakConnectionAsync()
    {
        try { await Task.Delay(100, Aborted); } catch (OperationCanceledException) { }
        Http.Abort();
    }

    public async Task TextAsync(int status, string contentType, string text)
    {
        PrepareHeaders(status, contentType);
        await Http.Response.WriteAsync(text, Encoding.UTF8, Aborted);
    }

    public void PrepareHeaders(int status, string contentType)
    {
        Http.Response.StatusCode = status;
        Http.Response.ContentType = contentType;
        Http.Response.Headers[Root == MockRoot.Anthropic ? "request-id" : "x-request-id"] = RequestId;
        Http.Response.Headers[HeaderNames.CacheControl] = "no-cache";
    }
}
