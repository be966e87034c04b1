using System.Net;
using System.Text.Json;
using Aggregator.Web.Data;
using Microsoft.Extensions.Options;
using Aggregator.Web.Upstream.Protocols;

namespace Aggregator.Web.Upstream.Sync;

/// <summary>Why a model list could not be fetched: the HTTP status (when there was one) and a readable reason.</summary>
public sealed class ModelListFetchException(string message, HttpStatusCode? status, int attempts, Exception? inner = null) : Exception(message, inner)
{
    public HttpStatusCode? Status { get; } = status;
    public int Attempts { get; } = attempts;
    public bool KeyRejected => Status is HttpStatusCode.Unauthorized;
}

public sealed record FetchedModelList(ModelListShape Shape, IReadOnlyList<UpstreamModel> Models, int Skipped, int Attempts);

/// <summary>GETs a provider's model list (following Anthropic's paging) through the resilient "model-sync" client.</summary>
public sealed class ModelListClient(IHttpClientFactory http, IOptions<SyncOptions> options)
{
    public const string HttpClientName = "model-sync";
    const int MaxPages = 200;

    public static string ListUrl(Provider provider) =>
        string.IsNullOrWhiteSpace(provider.ModelsUrl) ? provider.BaseUrl.TrimEnd('/') + "/models" : provider.ModelsUrl!;

    public async Task<FetchedModelList> FetchAsync(Provider provider, string secret, CancellationToken ct)
    {
        var client = http.CreateClient(HttpClientName);
        var url = ListUrl(provider);
        var paged = provider.ListShape == ModelListShape.Anthropic || provider.ApiStandard == ApiStandard.Anthropic;
        // OpenRouter lists text-output models only unless asked for all (embeddings, image models).
        if (provider.ListShape == ModelListShape.OpenRouter && !url.Contains("output_modalities", StringComparison.Ordinal))
            url = WithQuery(url, "output_modalities=all");
        var models = new List<UpstreamModel>();
        var skipped = 0;
        var attempts = 0;
        var entries = 0; // across pages, against Sync:MaxModels
        var shape = provider.ListShape;
        string? after = null;
        for (var page = 0; page < MaxPages; page++)
        {
            var pageUrl = paged ? WithQuery(url, after is null ? "limit=1000" : $"limit=1000&after_id={Uri.EscapeDataString(after)}") : url;
            var (parsed, tries) = await GetPageAsync(client, pageUrl, provider, secret, shape, entries, ct);
            attempts += tries;
            if (shape == ModelListShape.Auto && parsed.Shape == ModelListShape.OpenRouter && !url.Contains("output_modalities", StringComparison.Ordinal))
            {
                // Detected OpenRouter: its default list leaves out non-text models; ask again for all of them.
                shape = parsed.Shape;
                url = WithQuery(url, "output_modalities=all");
                continue;
            }
            shape = parsed.Shape;
            models.AddRange(parsed.Models);
            skipped += parsed.Skipped;
            entries += parsed.Entries;
            if (!parsed.HasMore || parsed.LastId is null || parsed.LastId == after) break;
            after = parsed.LastId;
        }
        return new FetchedModelList(shape, models, skipped, attempts);
    }

    /// <param name="earlierEntries">Entries on earlier pages, counted against <c>Sync:MaxModels</c>.</param>
    async Task<(ModelListPage Page, int Attempts)> GetPageAsync(HttpClient client, string url, Provider provider, string secret,
        ModelListShape shape, int earlierEntries, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        ProviderAuth.Apply(request, provider.ApiStandard, secret);
        var counter = new AttemptCounter();
        request.Options.Set(AttemptCounter.Key, counter);
        var host = request.RequestUri!.Authority;
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or Polly.Timeout.TimeoutRejectedException
                                       || ex is TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new ModelListFetchException($"Cannot reach {host}: {ex.Message}", null, Math.Max(1, counter.Count), ex);
        }
        using (response)
        {
            var attempts = Math.Max(1, counter.Count);
            if (!response.IsSuccessStatusCode)
            {
                var reason = await ErrorReasonAsync(response, ct);
                var status = (int)response.StatusCode;
                var message = response.StatusCode == HttpStatusCode.Unauthorized
                    ? $"{host} rejected the API key (401{reason})."
                    : $"{host} answered HTTP {status}{reason}" + (attempts > 1 ? $" after {attempts} attempts." : ".");
                throw new ModelListFetchException(message, response.StatusCode, attempts);
            }
            var max = options.Value.MaxListBytes;
            if (response.Content.Headers.ContentLength > max)
                throw new ModelListFetchException($"The model list from {host} is larger than {max / (1024 * 1024)} MB.", response.StatusCode, attempts);
            try
            {
                await using var body = new UpstreamBody(await response.Content.ReadAsStreamAsync(ct), max);
                return (await ModelListParser.ParseAsync(body, shape, options.Value.AiHubMixPriceTokens, options.Value.MaxModels, earlierEntries, ct), attempts);
            }
            catch (ModelListException ex)
            {
                throw new ModelListFetchException(ex.Message, null, attempts, ex);
            }
            catch (JsonException ex)
            {
                throw new ModelListFetchException($"The model list from {host} is not JSON ({ex.Message}).", response.StatusCode, attempts, ex);
            }
            catch (UpstreamFailure)
            {
                throw new ModelListFetchException($"The model list from {host} is larger than {max / (1024 * 1024)} MB.", response.StatusCode, attempts);
            }
        }
    }

    static async Task<string> ErrorReasonAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (text.Length > 4000) text = text[..4000];
            using var json = JsonDocument.Parse(text);
            var error = json.RootElement.Prop("error");
            var message = error?.Str("message") ?? json.RootElement.Str("message");
            var code = error?.Str("code") ?? error?.Str("type");
            return message is null ? "" : $": {(code is null ? "" : code + " — ")}{(message.Length > 300 ? message[..300] : message)}";
        }
        catch (JsonException) { return ""; }
    }

    static string WithQuery(string url, string query) => url + (url.Contains('?') ? "&" : "?") + query;
}

/// <summary>Counts how many times the resilience pipeline sent a request (it sits inside the retry handler).</summary>
public sealed class AttemptCounter
{
    public static readonly HttpRequestOptionsKey<AttemptCounter> Key = new("aggregator.attempts");
    int _count;
    public int Count => _count;
    public void Increment() => Interlocked.Increment(ref _count);

    public sealed class Handler : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Options.TryGetValue(Key, out var counter)) counter.Increment();
            return base.SendAsync(request, cancellationToken);
        }
    }
}
