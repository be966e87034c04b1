using System.Text.Json;
using System.Text.Json.Nodes;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Telemetry;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Protocols;
using Aggregator.Web.Upstream.Usage;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Upstream.Routing;

/// <param name="ModelId">Catalogue row id of an embedding model.</param>
/// <param name="Body">The caller's body as it arrived; each attempt sends it with <c>model</c> set to the upstream's id.</param>
/// <param name="ReplyModel">The model id the reply names (the caller's, e.g. <c>provider/model</c>).</param>
/// <param name="EstimatedPromptTokens">Recorded (marked estimated) when the provider reports no usage.</param>
public sealed record EmbeddingRequest(
    string UserId, Tier UserTier, long ModelId, JsonObject Body, string ReplyModel, int EstimatedPromptTokens,
    string Source = "api", long? ApiTokenId = null);

/// <summary>The upstream's JSON body (model renamed), who served it and what it cost.</summary>
public sealed record EmbeddingResult(byte[] Body, RouteInfo Route, TokenUsage Usage, decimal? CostUsd);

/// <summary>
/// Embeddings on the chat's machinery: the same resolution (<see cref="RouteResolver"/>), tier quotas, key
/// rotation and failover (<see cref="UpstreamConnector.FailoverAsync{T}"/>), failure classification with the
/// key redacted, and usage recording. OpenAI-standard providers only: the Anthropic API has no embeddings.
/// </summary>
public sealed class EmbeddingRouter(
    RouteResolver resolver,
    ITierQuotas quotas,
    UpstreamConnector connector,
    IApiKeyPool pool,
    IHttpClientFactory httpFactory,
    UsageRecorder usage,
    IOptionsMonitor<RouterOptions> options,
    TimeProvider time,
    GatewayTelemetry telemetry)
{
    sealed record Served(byte[] Body, RouteCandidate Candidate, KeyLease Key, TokenUsage? Usage);

    /// <summary>Routes one embeddings request; refusals and failures are <see cref="RouterException"/>s.</summary>
    public async Task<EmbeddingResult> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken)
    {
        using var span = GatewayTelemetry.StartRoute("embeddings", request.Source);
        var plan = Embeddable(await resolver.ResolveAsync(request.ModelId, request.UserTier, cancellationToken));
        var ticket = await quotas.AcquireAsync(request.UserId, request.UserTier, cancellationToken);
        var o = options.CurrentValue;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(o.FirstTokenDeadline);

        Served served;
        var origin = new CallOrigin(request.UserId, request.ApiTokenId, request.Source);
        try
        {
            var bodies = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            served = await connector.FailoverAsync(plan, origin, o, deadline.Token, cancellationToken, (candidate, client, key, attempt) =>
            {
                var upstreamModel = candidate.Model.ModelId;
                if (!bodies.TryGetValue(upstreamModel, out var body))
                {
                    request.Body["model"] = upstreamModel;
                    bodies[upstreamModel] = body = JsonSerializer.SerializeToUtf8Bytes(request.Body);
                }
                return SendAsync(client, candidate, key, body, request.ReplyModel, attempt, o);
            });
        }
        catch (Exception ex)
        {
            ticket.Refund(); // nothing was served
            if (ex is RouterException refused && !cancellationToken.IsCancellationRequested) connector.RecordRequestFailure(origin, plan, refused);
            throw;
        }

        // Served means paid for upstream: recorded even if the caller has gone by now.
        var final = served.Usage is { PromptTokens: > 0 } reported ? reported : new TokenUsage(request.EstimatedPromptTokens, 0, Estimated: true);
        var model = served.Candidate.Model;
        decimal? cost = model.InputPricePerMTok is { } price ? final.PromptTokens * price / 1_000_000m : null;
        var now = time.GetUtcNow().UtcDateTime;
        usage.Record(new UsageRecord
        {
            UserId = request.UserId,
            ProviderId = model.ProviderId,
            ApiKeyId = served.Key.KeyId,
            ApiTokenId = request.ApiTokenId,
            ModelId = model.Id,
            Source = request.Source,
            Day = DateOnly.FromDateTime(now),
            CreatedAt = now,
            PromptTokens = final.PromptTokens,
            Estimated = final.Estimated,
            CostUsd = cost,
        });
        ticket.Complete(final);
        var route = new RouteInfo(model.ProviderId, served.Candidate.Provider.Name, model.Id, model.ModelId, served.Key.KeyId);
        telemetry.EmbeddingServed(route, final);
        return new EmbeddingResult(served.Body, route, final, cost);
    }

    async Task<Served> SendAsync(ProviderClient client, RouteCandidate candidate, KeyLease key, byte[] body, string replyModel,
        CancellationTokenSource attempt, RouterOptions o)
    {
        using (attempt)
        {
            var token = attempt.Token;
            using var message = client.EmbeddingsRequest(candidate.Provider, body, key);
            using var response = await httpFactory.CreateClient(UpstreamConnector.HttpClientName)
                .SendAsync(message, HttpCompletionOption.ResponseHeadersRead, token);
            if (!UpstreamFailure.IsSuccess(response.StatusCode))
                throw await client.FailureAsync(response, key.Redactor, time.GetUtcNow(), token);
            var bytes = await EmbeddingReply.ReadAsync(response, o.MaxResponseBytes, token);
            var relayed = EmbeddingReply.Relay(bytes, replyModel, key.Redactor, out var reported);
            await pool.ReportSuccessAsync(key);
            return new Served(relayed, candidate, key, reported);
        }
    }

    /// <summary>The plan's candidates that can embed: embedding rows on OpenAI-standard providers.</summary>
    static RoutePlan Embeddable(RoutePlan plan)
    {
        var primary = plan.Primary;
        if (primary.Model.Type != ModelType.Embedding)
            throw new RouterException(RouterError.InvalidRequest, $"{primary.Model.Name} is not an embedding model.");
        if (primary.Provider.Standard != ApiStandard.OpenAI)
            throw new RouterException(RouterError.InvalidRequest,
                $"{primary.Model.Name} is served by {primary.Provider.DisplayName} through the Anthropic API, which has no embeddings endpoint.");
        var fallbacks = plan.Fallbacks.Where(c => c.Model.Type == ModelType.Embedding && c.Provider.Standard == ApiStandard.OpenAI).ToArray();
        return fallbacks.Length == plan.Fallbacks.Length ? plan : plan with { Fallbacks = fallbacks };
    }
}
