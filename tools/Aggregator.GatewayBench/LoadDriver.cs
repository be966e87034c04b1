using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Aggregator.GatewayBench;

/// <summary>One place requests go: the mock, the forwarder or the gateway, each with its own key and model id.</summary>
public sealed record Target(string Name, string ChatUrl, string Token, string Model);

/// <summary>Sends the same chat request to a target, closed loop (C in flight) or open loop (a fixed rate).</summary>
public sealed class LoadDriver(HttpClient client, BenchOptions options)
{
    static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>Loads <paramref name="target"/> for <paramref name="duration"/>; what completes goes into <paramref name="into"/>.</summary>
    public async Task RunAsync(Target target, bool stream, TimeSpan duration, Measurements into, CancellationToken ct)
    {
        var body = RequestBody(target.Model, stream);
        var started = Stopwatch.GetTimestamp();
        if (options.Rate is { } rate) await OpenLoopAsync(target, body, rate, duration, into, ct);
        else await ClosedLoopAsync(target, body, duration, into, ct);
        into.AddElapsed(Stopwatch.GetElapsedTime(started));
    }

    /// <summary>One request whose answer must look right, so a misconfigured target fails loudly instead of fast.</summary>
    public async Task ProbeAsync(Target target, bool stream, CancellationToken ct)
    {
        using var request = Request(target, RequestBody(target.Model, stream));
        using var response = await client.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        var expected = stream ? "data: [DONE]" : "\"choices\"";
        if (!response.IsSuccessStatusCode || !text.Contains(expected, StringComparison.Ordinal))
            throw new InvalidOperationException($"{target.Name} ({target.ChatUrl}) answered {(int)response.StatusCode}: {text[..Math.Min(300, text.Length)]}");
    }

    async Task ClosedLoopAsync(Target target, byte[] body, TimeSpan duration, Measurements into, CancellationToken ct)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < deadline) await SendAsync(target, body, into, ct);
        }, ct));
        await Task.WhenAll(workers);
    }

    /// <summary>
    /// Issues requests on schedule whether or not earlier ones have finished (open loop), so a slow target faces the
    /// same arrivals as a fast one instead of being offered less load.
    /// </summary>
    async Task OpenLoopAsync(Target target, byte[] body, int rate, TimeSpan duration, Measurements into, CancellationToken ct)
    {
        var total = (long)(rate * duration.TotalSeconds);
        var inFlight = new List<Task>((int)total);
        var started = Stopwatch.GetTimestamp();
        while (inFlight.Count < total)
        {
            var due = Math.Min(total, (long)(Stopwatch.GetElapsedTime(started).TotalSeconds * rate) + 1);
            while (inFlight.Count < due) inFlight.Add(Task.Run(() => SendAsync(target, body, into, ct), ct));
            await Task.Delay(1, ct);
        }
        await Task.WhenAll(inFlight);
    }

    async Task SendAsync(Target target, byte[] body, Measurements into, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var start = Stopwatch.GetTimestamp();
        try
        {
            using var request = Request(target, body);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            await using var content = await response.Content.ReadAsStreamAsync(ct);
            var firstByte = 0L;
            while (await content.ReadAsync(buffer, ct) > 0)
                if (firstByte == 0) firstByte = Stopwatch.GetTimestamp();
            var end = Stopwatch.GetTimestamp();
            if (response.IsSuccessStatusCode && firstByte != 0) into.Add(end - start, firstByte - start);
            else into.Error($"HTTP {(int)response.StatusCode}");
        }
        // A timeout counts as an error; only the run being stopped ends the run.
        catch (Exception e) when (e is HttpRequestException or IOException || e is OperationCanceledException && !ct.IsCancellationRequested)
        {
            into.Error(e.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    static HttpRequestMessage Request(Target target, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, target.ChatUrl) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = Json;
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", target.Token);
        return request;
    }

    /// <summary>
    /// A small chat request. The reply length is also asked for in the prompt (<c>mock:tokens=N</c>), so a mock the
    /// gateway reaches with other settings still answers the same bytes.
    /// </summary>
    byte[] RequestBody(string model, bool stream)
    {
        var body = new Dictionary<string, object>
        {
            ["model"] = model,
            ["messages"] = new[] { new { role = "user", content = $"Say hello. mock:tokens={options.ReplyTokens}" } },
            ["stream"] = stream,
        };
        // As OpenAI SDK users send it (a usage chunk at the end); OpenAI rejects stream_options on a non-stream request.
        if (stream) body["stream_options"] = new { include_usage = true };
        return JsonSerializer.SerializeToUtf8Bytes(body);
    }
}
