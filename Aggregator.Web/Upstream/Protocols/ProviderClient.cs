using System.Buffers;
using System.Net.Http.Headers;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Upstream.Protocols;

/// <summary>What a cheap authenticated call (the model list) said about a key; the message is redacted.</summary>
public sealed record ProbeResult(bool Ok, int? Status, string Message);

/// <summary>
/// The one way to talk to a provider of one API standard: authentication, the chat, embeddings, list and probe URLs,
/// the probe, and turning a failed response or exception into a classified <see cref="UpstreamFailure"/>
/// with the key redacted from the provider's words. The router, the key probe, model sync and the
/// admin's key Test all go through it; <see cref="Protocol"/> is the chat wire format.
/// </summary>
public sealed class ProviderClient(ApiStandard standard, ProtocolAdapter protocol, string anthropicVersion)
{
    const int MaxErrorBodyBytes = 64 * 1024;

    public ApiStandard Standard { get; } = standard;
    public ProtocolAdapter Protocol { get; } = protocol;

    bool IsAnthropic => Standard == ApiStandard.Anthropic;

    /// <summary>The chat request for one key (hot path: the key's header value is built once per key).</summary>
    public HttpRequestMessage ChatRequest(ProviderRoute provider, ReadOnlyMemory<byte> body, KeyLease key)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, Combine(provider.BaseUrl, IsAnthropic ? "messages" : "chat/completions"))
        {
            Content = new ReadOnlyMemoryContent(body),
        };
        message.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        message.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        if (IsAnthropic) AddAnthropicHeaders(message, key.Secret);
        else message.Headers.TryAddWithoutValidation("Authorization", key.BearerValue);
        return message;
    }

    /// <summary>The embeddings request for one key; OpenAI standard only (the Anthropic API has no embeddings endpoint).</summary>
    public HttpRequestMessage EmbeddingsRequest(ProviderRoute provider, ReadOnlyMemory<byte> body, KeyLease key)
    {
        if (IsAnthropic) throw new InvalidOperationException("The Anthropic API has no embeddings endpoint.");
        var message = new HttpRequestMessage(HttpMethod.Post, Combine(provider.BaseUrl, "embeddings"))
        {
            Content = new ReadOnlyMemoryContent(body),
        };
        message.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        message.Headers.TryAddWithoutValidation("Accept", "application/json");
        message.Headers.TryAddWithoutValidation("Authorization", key.BearerValue);
        return message;
    }

    public StreamDecoder CreateDecoder(KeyLease key) => Protocol.CreateDecoder(key.Redactor);

    /// <summary>Adds the key (and the protocol's version header): the only place a secret touches a request.</summary>
    public void Authorize(HttpRequestMessage message, string secret)
    {
        if (IsAnthropic) AddAnthropicHeaders(message, secret);
        else message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
    }

    void AddAnthropicHeaders(HttpRequestMessage message, string secret)
    {
        message.Headers.TryAddWithoutValidation("x-api-key", secret);
        message.Headers.TryAddWithoutValidation("anthropic-version", anthropicVersion);
    }

    /// <summary>The model list: the provider's own list URL if it has one, else <c>{base}/models</c>.</summary>
    public static string ListUrl(string baseUrl, string? modelsUrl) =>
        string.IsNullOrWhiteSpace(modelsUrl) ? Combine(baseUrl, "models").ToString() : modelsUrl;

    /// <summary>The smallest authenticated call there is: one page of the model list (one model on Anthropic).</summary>
    public HttpRequestMessage ProbeRequest(string baseUrl, string? modelsUrl, string secret)
    {
        var url = ListUrl(baseUrl, modelsUrl);
        if (IsAnthropic) url = WithQuery(url, "limit=1");
        var message = new HttpRequestMessage(HttpMethod.Get, url);
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        Authorize(message, secret);
        return message;
    }

    /// <summary>Probes a key; never throws for what the provider or the network did (only for the caller's cancellation).</summary>
    public async Task<ProbeResult> ProbeAsync(
        HttpClient http, string baseUrl, string? modelsUrl, string secret, SecretRedactor redactor, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var request = ProbeRequest(baseUrl, modelsUrl, secret);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var status = (int)response.StatusCode;
            if (UpstreamFailure.IsSuccess(response.StatusCode)) return new ProbeResult(true, status, $"OK: HTTP {status}");
            var failure = await FailureAsync(response, redactor, DateTimeOffset.UtcNow, deadline.Token);
            return new ProbeResult(false, status, failure.Message);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is HttpRequestException or IOException or OperationCanceledException)
        {
            var failure = Classify(ex, redactor);
            var message = ex is OperationCanceledException ? $"No answer within {timeout.TotalSeconds:0.#} s" : failure.Message;
            return new ProbeResult(false, null, message);
        }
    }

    /// <summary>Reads a non-success response's error body and classifies it, redacted.</summary>
    public async Task<UpstreamFailure> FailureAsync(HttpResponseMessage response, SecretRedactor redactor, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var retryAfter = UpstreamFailure.ReadRetryAfter(response.Headers, now);
        var body = await ReadErrorAsync(response, cancellationToken);
        // A body in no known shape still says something; the status line's reason phrase is the provider's text too.
        if (body.Message is null && response.ReasonPhrase is { Length: > 0 } reason) body = body with { Message = reason };
        return UpstreamFailure.FromStatus((int)response.StatusCode, body, retryAfter, redactor);
    }

    /// <summary>Any exception of an attempt (transport, timeout, an unreadable reply) as a failure; provider text in it is redacted.</summary>
    public static UpstreamFailure Classify(Exception ex, SecretRedactor redactor) => ex switch
    {
        UpstreamFailure f => f,
        OperationCanceledException => new("The provider did not answer in time", true, KeyFault.Timeout, "timeout"),
        HttpRequestException h => new($"Could not reach the provider ({h.HttpRequestError})", true, KeyFault.Transport,
            $"connection {h.HttpRequestError}", providerText: redactor.Redact(h.Message)),
        IOException => new("The connection to the provider was lost", true, KeyFault.Transport, "connection lost"),
        _ => new($"Unexpected failure talking to the provider ({ex.GetType().Name})", true, KeyFault.Transport, ex.GetType().Name),
    };

    static async Task<UpstreamErrorBody> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxErrorBodyBytes);
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var length = 0;
            int read;
            while (length < MaxErrorBodyBytes && (read = await stream.ReadAsync(buffer.AsMemory(length, MaxErrorBodyBytes - length), cancellationToken)) > 0)
                length += read;
            return UpstreamErrorBody.Parse(buffer.AsSpan(0, length).TrimStart(" \t\r\n"u8));
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return UpstreamErrorBody.None;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    static Uri Combine(string baseUrl, string path) =>
        new(baseUrl.EndsWith('/') ? baseUrl + path : baseUrl + "/" + path, UriKind.Absolute);

    public static string WithQuery(string url, string query) => url + (url.Contains('?') ? "&" : "?") + query;
}
