using System.Net;
using System.Text.Json;
using Aggregator.Web.Data;
using Microsoft.Extensions.Options;
using Aggregator.Web.Upstream.Protocols;

namespace Aggregator.Web.Upstream.Sync;

/// <summary>What went wrong fetching a model list, in words a log line can carry (no provider text).</summary>
public enum ModelListFailure { Unreachable, Timeout, HttpError, KeyRejected, TooLarge, NotJson, Unreadable }

/// <summary>Why a model list could not be fetched: the HTTP status (when there was one) and a readable reason.</summary>
public sealed class ModelListFetchException(string message, HttpStatusCode? status, int attempts, ModelListFailure failure) : Exception(message)
{
    public HttpStatusCode? Status { get; } = status;
    public int Attempts { get; } = attempts;
    public ModelListFailure Failure { get; } = failure;
    public bool KeyRejected => Status is HttpStatusCode.Unauthorized;
}

/// <param name="Withheld">Entries that carried the API key (a hostile or broken upstream): never stored.</param>
public sealed record FetchedModelList(ModelListShape Shape, IReadOnlyList<UpstreamModel> Models, int Skipped, int Attempts, int Withheld = 0);

/// <summary>GETs a provider's model list (following Anthropic's paging) through the resilient "model-sync" client.</summary>
public sealed class ModelListClient(IHttpClientFactory http, ProviderClients clients, IOptions<SyncOptions> options)
{
    public const string HttpClientName = "model-sync";
    const int MaxPages = 200;

    public static string ListUrl(Provider provider) => ProviderClient.ListUrl(provider.BaseUrl, provider.ModelsUrl);

    public async Task<FetchedModelList> FetchAsync(Provider provider, string secret, CancellationToken ct)
    {
        var client = http.CreateClient(HttpClientName);
        var url = ListUrl(provider);
        var paged = provider.ListShape == ModelListShape.Anthropic || provider.ApiStandard == ApiStandard.Anthropic;
        // OpenRouter lists text-output models only unless asked for all (embeddings, image models).
        if (provider.ListShape == ModelListShape.OpenRouter && !url.Contains("output_modalities", StringComparison.Ordinal))
            url = WithQuery(url, "output_modalities=all");
        // Everything the provider or the network says on the way is redacted before it becomes a message.
        var redactor = new SecretRedactor(secret);
        var models = new List<UpstreamModel>();
        var skipped = 0;
        var withheld = 0;
        var attempts = 0;
        var entries = 0; // across pages, against Sync:MaxModels
        var shape = provider.ListShape;
        string? after = null;
        for (var page = 0; page < MaxPages; page++)
        {
            var pageUrl = paged ? WithQuery(url, after is null ? "limit=1000" : $"limit=1000&after_id={Uri.EscapeDataString(after)}") : url;
            var (parsed, tries) = await GetPageAsync(client, pageUrl, provider, secret, redactor, shape, entries, ct);
            attempts += tries;
            if (shape == ModelListShape.Auto && parsed.Shape == ModelListShape.OpenRouter && !url.Contains("output_modalities", StringComparison.Ordinal))
            {
                // Detected OpenRouter: its default list leaves out non-text models; ask again for all of them.
                shape = parsed.Shape;
                url = WithQuery(url, "output_modalities=all");
                continue;
            }
            shape = parsed.Shape;
            foreach (var model in parsed.Models)
            {
                // A hostile list can carry the key in an id, a name or a description: such an entry never becomes a row.
                if (CarriesKey(model, redactor)) withheld++;
                else models.Add(model);
            }
            skipped += parsed.Skipped;
            entries += parsed.Entries;
            if (!parsed.HasMore || parsed.LastId is null || parsed.LastId == after) break;
            after = parsed.LastId;
        }
        return new FetchedModelList(shape, models, skipped, attempts, withheld);
    }

    static bool CarriesKey(UpstreamModel model, SecretRedactor redactor) =>
        Carries(model.ModelId, redactor) || Carries(model.UpstreamName, redactor) || Carries(model.Description, redactor);

    static bool Carries(string? text, SecretRedactor redactor) => text is not null && redactor.ContainsKey(text);

    /// <param name="earlierEntries">Entries on earlier pages, counted against <c>Sync:MaxModels</c>.</param>
    async Task<(ModelListPage Page, int Attempts)> GetPageAsync(HttpClient client, string url, Provider provider, string secret,
        SecretRedactor redactor, ModelListShape shape, int earlierEntries, CancellationToken ct)
    {
        var providerClient = clients.For(provider.ApiStandard);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        providerClient.Authorize(request, secret);
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
            var failure = ex is HttpRequestException ? ModelListFailure.Unreachable : ModelListFailure.Timeout;
            throw new ModelListFetchException($"Cannot reach {host}: {redactor.Redact(ex.Message)}", null, Math.Max(1, counter.Count), failure);
        }
        using (response)
        {
            var attempts = Math.Max(1, counter.Count);
            if (!response.IsSuccessStatusCode)
            {
                var failure = await providerClient.FailureAsync(response, redactor, DateTimeOffset.UtcNow, ct);
                var message = response.StatusCode == HttpStatusCode.Unauthorized
                    ? $"{host} rejected the API key ({failure.ProviderText})."
                    : $"{host} answered HTTP {failure.ProviderText}" + (attempts > 1 ? $" after {attempts} attempts." : ".");
                throw new ModelListFetchException(message, response.StatusCode, attempts,
                    response.StatusCode == HttpStatusCode.Unauthorized ? ModelListFailure.KeyRejected : ModelListFailure.HttpError);
            }
            var max = options.Value.MaxListBytes;
            if (response.Content.Headers.ContentLength > max)
                throw new ModelListFetchException($"The model list from {host} is larger than {max / (1024 * 1024)} MB.", response.StatusCode, attempts, ModelListFailure.TooLarge);
            try
            {
                await using var body = new UpstreamBody(await response.Content.ReadAsStreamAsync(ct), max);
                return (await ModelListParser.ParseAsync(body, shape, options.Value.AiHubMixPriceTokens, options.Value.MaxModels, earlierEntries, ct), attempts);
            }
            catch (ModelListException ex)
            {
                throw new ModelListFetchException(redactor.Redact(ex.Message), null, attempts, ModelListFailure.Unreadable);
            }
            catch (JsonException ex)
            {
                throw new ModelListFetchException($"The model list from {host} is not JSON ({redactor.Redact(ex.Message)}).", response.StatusCode, attempts, ModelListFailure.NotJson);
            }
            catch (UpstreamFailure)
            {
                throw new ModelListFetchException($"The model list from {host} is larger than {max / (1024 * 1024)} MB.", response.StatusCode, attempts, ModelListFailure.TooLarge);
            }
        }
    }

    static string WithQuery(string url, string query) => ProviderClient.WithQuery(url, query);
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
