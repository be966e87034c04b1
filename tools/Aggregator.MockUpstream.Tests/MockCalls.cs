using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.MockUpstream;

namespace Aggregator.MockUpstream.Tests;

/// <summary>Plain HTTP calls to a mock, the way an upstream client makes them.</summary>
internal static class MockCalls
{
    public static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(10) })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    public const string Key = "sk-mock-test-key-0001";

    public static HttpRequestMessage OpenAIRequest(string url, object? body, string? key = Key, string? fault = null, string? rawBody = null)
    {
        var request = new HttpRequestMessage(body is null && rawBody is null ? HttpMethod.Get : HttpMethod.Post, url);
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (fault is not null) request.Headers.Add(MockFaults.Header, fault);
        if (rawBody is not null || body is not null)
            request.Content = new StringContent(rawBody ?? JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        return request;
    }

    public static HttpRequestMessage AnthropicRequest(string url, object? body, string? key = Key, string? fault = null, string? rawBody = null, bool version = true)
    {
        var request = new HttpRequestMessage(body is null && rawBody is null ? HttpMethod.Get : HttpMethod.Post, url);
        if (key is not null) request.Headers.Add("x-api-key", key);
        if (version) request.Headers.Add("anthropic-version", "2023-06-01");
        if (fault is not null) request.Headers.Add(MockFaults.Header, fault);
        if (rawBody is not null || body is not null)
            request.Content = new StringContent(rawBody ?? JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        return request;
    }

    public static object Chat(string text = "Hello mock", string model = "gpt-4o", bool stream = false, bool includeUsage = false, int? maxTokens = null)
    {
        var body = new Dictionary<string, object?>
        {
            ["model"] = model,
            ["messages"] = new[] { new { role = "system", content = "Be brief." }, new { role = "user", content = text } },
        };
        if (stream) body["stream"] = true;
        if (includeUsage) body["stream_options"] = new { include_usage = true };
        if (maxTokens is not null) body["max_tokens"] = maxTokens;
        return body;
    }

    public static object Messages(string text = "Hello mock", string model = "claude-sonnet-4-5", bool stream = false, int? maxTokens = 1024)
    {
        var body = new Dictionary<string, object?>
        {
            ["model"] = model,
            ["system"] = "Be brief.",
            ["messages"] = new[] { new { role = "user", content = text } },
        };
        if (maxTokens is not null) body["max_tokens"] = maxTokens;
        if (stream) body["stream"] = true;
        return body;
    }

    public static async Task<(HttpResponseMessage Response, JsonNode? Json, string Text)> SendAsync(HttpRequestMessage request)
    {
        var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        try { json = JsonNode.Parse(text); } catch (JsonException) { }
        return (response, json, text);
    }

    /// <summary>Every SSE item of a streamed answer, parsed by the BCL's spec-compliant parser.</summary>
    public static async Task<(HttpResponseMessage Response, List<SseItem<string>> Events)> StreamAsync(HttpRequestMessage request)
    {
        var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var events = new List<SseItem<string>>();
        await foreach (var item in SseParser.Create(body).EnumerateAsync()) events.Add(item);
        return (response, events);
    }

    /// <summary>The raw bytes of a streamed answer, and each read as it arrived.</summary>
    public static async Task<(byte[] Bytes, List<byte[]> Reads)> RawAsync(HttpRequestMessage request)
    {
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];
        using var all = new MemoryStream();
        var reads = new List<byte[]>();
        int n;
        while ((n = await body.ReadAsync(buffer)) > 0) { all.Write(buffer, 0, n); reads.Add(buffer[..n]); }
        return (all.ToArray(), reads);
    }

    /// <summary>The data of the OpenAI-style chunks (not [DONE]) as JSON.</summary>
    public static List<JsonObject> Chunks(IEnumerable<SseItem<string>> events) =>
        [.. events.Where(e => e.Data != "[DONE]").Select(e => JsonNode.Parse(e.Data)!.AsObject())];

    public static string ContentOf(IEnumerable<JsonObject> chunks) => string.Concat(chunks
        .Where(c => c["choices"] is JsonArray { Count: > 0 })
        .Select(c => (string?)c["choices"]![0]!["delta"]?["content"] ?? ""));

    public static int ContentChunkCount(IEnumerable<JsonObject> chunks) => chunks.Count(c =>
        c["choices"] is JsonArray { Count: > 0 } choices && choices[0]!["delta"]?["content"] is JsonValue v && v.GetValue<string>().Length > 0);
}
