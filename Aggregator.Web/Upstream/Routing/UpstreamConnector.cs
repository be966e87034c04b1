using Aggregator.Web.Data;
using Aggregator.Web.Features.Telemetry;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Protocols;

namespace Aggregator.Web.Upstream.Routing;

/// <summary>
/// Failover before the first token: tries keys (least recently used first) and then fallback providers,
/// with exponential backoff and jitter, inside a retry budget and the first-token deadline, until a
/// reply produces its first delta. A hand-written loop rather than a Polly retry because each attempt
/// changes key, adapter and body, and the failure decides the key's health.
/// </summary>
public sealed class UpstreamConnector(
    IApiKeyPool pool,
    ProviderClients clients,
    IHttpClientFactory httpFactory,
    Usage.UsageRecorder usage,
    TimeProvider time,
    GatewayTelemetry telemetry,
    ILogger<UpstreamConnector> log)
{
    public const string HttpClientName = "upstream";

    /// <summary>An attempt's failure as a row (see <see cref="UpstreamError"/>): a class and a status, never the provider's text.</summary>
    internal void RecordAttemptFailure(CallOrigin origin, RouteCandidate candidate, long keyId, UpstreamFailure failure)
    {
        telemetry.AttemptFailed(candidate, keyId, failure);
        usage.RecordError(origin.Error(time, candidate.Provider.Id, candidate.Model.Id, keyId, requestFailed: false,
            failure.KeyFault?.ToString() ?? failure.Error.ToString(), failure.Status));
    }

    /// <summary>A request its caller got an error for (every attempt failed, no usable key, the provider refused it).</summary>
    internal void RecordRequestFailure(CallOrigin origin, RoutePlan plan, RouterException error)
    {
        telemetry.RequestFailed(plan, error);
        usage.RecordError(origin.Error(time, plan.Primary.Provider.Id, plan.Primary.Model.Id, keyId: null, requestFailed: true,
            error.Error.ToString(), (error.InnerException as UpstreamFailure)?.Status));
    }

    internal Task<OpenReply> ConnectAsync(RoutePlan plan, ChatRequest request, RouterOptions o, CancellationToken deadline, CancellationToken caller)
    {
        var origin = new CallOrigin(request.UserId, request.ApiTokenId, request.Source);
        ReadOnlyMemory<byte> body = default;
        long bodyModel = -1;
        ApiStandard bodyStandard = default;
        return FailoverAsync(plan, origin, o, deadline, caller, (candidate, client, key, attempt) =>
        {
            if (bodyModel != candidate.Model.Id || bodyStandard != candidate.Provider.Standard)
            {
                body = client.Protocol.BuildBody(candidate.Model, request);
                bodyModel = candidate.Model.Id;
                bodyStandard = candidate.Provider.Standard;
            }
            return OpenAsync(client, candidate, key, body, attempt, o);
        });
    }

    /// <summary>
    /// The failover loop every upstream call goes through (chat streams and embeddings): picks a key, makes one
    /// attempt with it, classifies a failure (the key's health, retry or not) and moves on. <paramref name="attemptAsync"/>
    /// owns the attempt's cancellation source once it returns a result; a failed attempt's source is disposed here.
    /// </summary>
    internal async Task<T> FailoverAsync<T>(RoutePlan plan, CallOrigin origin, RouterOptions o, CancellationToken deadline, CancellationToken caller,
        Func<RouteCandidate, ProviderClient, KeyLease, CancellationTokenSource, Task<T>> attemptAsync)
    {
        var started = time.GetTimestamp();
        List<long>? tried = null;
        UpstreamFailure? last = null;
        var attempts = 0;
        var candidateIndex = 0;
        try
        {
            while (true)
            {
                var remaining = o.FirstTokenDeadline - time.GetElapsedTime(started);
                if (remaining <= TimeSpan.Zero) throw GiveUp(plan, last, attempts, null, $"no reply within {o.FirstTokenDeadline.TotalSeconds:0.#} s");
                if (attempts >= o.MaxAttempts) throw GiveUp(plan, last, attempts, null, null);

                var candidate = plan[candidateIndex];
                var (key, retryAt) = await pool.AcquireAsync(candidate.Provider.Id, tried, caller);
                if (key is null)
                {
                    if (candidateIndex + 1 < plan.Count) { candidateIndex++; continue; }
                    var wait = retryAt - time.GetUtcNow().UtcDateTime;
                    if (wait is { } w && w <= o.MaxRetryAfterWait && w < remaining)
                    {
                        // Every key is rate limited for a moment: honour Retry-After rather than fail.
                        await Task.Delay(w > TimeSpan.Zero ? w : TimeSpan.Zero, time, deadline);
                        candidateIndex = 0;
                        tried?.Clear();
                        continue;
                    }
                    throw GiveUp(plan, last, attempts, wait, null);
                }

                if (attempts > 0) await Task.Delay(Backoff(attempts, o), time, deadline);
                attempts++;
                var client = clients.For(candidate.Provider.Standard);
                var attempt = CancellationTokenSource.CreateLinkedTokenSource(deadline);
                attempt.CancelAfter(o.AttemptTimeout < remaining ? o.AttemptTimeout : remaining);
                using var span = telemetry.StartAttempt(candidate, key.KeyId, attempts);
                try
                {
                    return await attemptAsync(candidate, client, key, attempt);
                }
                catch (Exception ex) when (ex is not RouterException && !caller.IsCancellationRequested && !deadline.IsCancellationRequested)
                {
                    attempt.Dispose();
                    // Every failure, and so every message and log line below, comes out of the client redacted.
                    var failure = ProviderClient.Classify(ex, key.Redactor);
                    RecordAttemptFailure(origin, candidate, key.KeyId, failure);
                    if (failure.KeyFault is { } fault and not KeyFault.Transport)
                    {
                        var health = await pool.ReportFailureAsync(key, fault, failure.RetryAfter, failure.Detail);
                        if (!health.Active)
                            log.LogWarning("API key {KeyId} of {Provider} disabled: {Reason}", key.KeyId, candidate.Provider.Name, health.DisabledReason);
                    }
                    log.LogWarning("Attempt {Attempt} on {Provider} ({Model}) with key {KeyId} failed: {Reason}",
                        attempts, candidate.Provider.Name, candidate.Model.ModelId, key.KeyId, failure.Detail);
                    if (!failure.Retryable)
                        throw new RouterException(failure.Error, failure.Message, inner: failure);
                    (tried ??= []).Add(key.KeyId);
                    last = failure;
                }
                catch
                {
                    attempt.Dispose();
                    throw;
                }
            }
        }
        catch (OperationCanceledException ex) when (!caller.IsCancellationRequested)
        {
            throw new RouterException(RouterError.UpstreamFailed,
                $"No reply from {plan.Primary.Provider.DisplayName} within the time limit{(last is null ? "" : $" (last error: {last.Message})")}.", inner: ex);
        }
    }

    async Task<OpenReply> OpenAsync(ProviderClient client, RouteCandidate candidate, KeyLease key, ReadOnlyMemory<byte> body, CancellationTokenSource attempt, RouterOptions o)
    {
        var token = attempt.Token;
        HttpResponseMessage response;
        using (var message = client.ChatRequest(candidate.Provider, body, key))
            response = await httpFactory.CreateClient(HttpClientName).SendAsync(message, HttpCompletionOption.ResponseHeadersRead, token);
        try
        {
            if (!UpstreamFailure.IsSuccess(response.StatusCode))
                throw await client.FailureAsync(response, key.Redactor, time.GetUtcNow(), token);
            var decoder = client.CreateDecoder(key);
            var content = await response.Content.ReadAsStreamAsync(token);
            var events = ReplyReader.ReadAsync(content, decoder, o.MaxResponseBytes, o.MaxBufferedBodyBytes, token).GetAsyncEnumerator(token);
            var buffered = new List<StreamEvent>(4);
            try
            {
                var sawDelta = false;
                while (!sawDelta && await events.MoveNextAsync())
                {
                    buffered.Add(events.Current);
                    sawDelta = events.Current is ContentDelta or ReasoningDelta or ToolCallDelta;
                }
                if (!sawDelta && !decoder.Ended && !decoder.SawFinish)
                    throw UpstreamFailure.Protocol(buffered.Count == 0 ? "an empty reply" : "a reply that ended before any content");
            }
            catch
            {
                await events.DisposeAsync();
                throw;
            }
            await pool.ReportSuccessAsync(key);
            var route = new RouteInfo(candidate.Provider.Id, candidate.Provider.Name, candidate.Model.Id, candidate.Model.ModelId, key.KeyId);
            return new OpenReply(route, candidate, key, response, events, decoder, buffered, attempt);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    static TimeSpan Backoff(int failures, RouterOptions o)
    {
        var exponential = o.BackoffBase.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 16));
        var capped = Math.Min(exponential, o.BackoffMax.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + Random.Shared.NextDouble() * 0.5));
    }

    static RouterException GiveUp(RoutePlan plan, UpstreamFailure? last, int attempts, TimeSpan? retryAfter, string? why)
    {
        var provider = plan.Primary.Provider.DisplayName;
        if (last is null && retryAfter is { } ra)
            return new RouterException(RouterError.UpstreamFailed,
                $"Every API key of {provider} is cooling down after errors; try again in {Math.Max(1, Math.Ceiling(ra.TotalSeconds))} s.", ra);
        if (last is null)
            return new RouterException(RouterError.NoActiveKey, $"{provider} has no usable API key right now.");
        var message = why is null
            ? $"{provider} failed {attempts} time{(attempts == 1 ? "" : "s")}; last error: {last.Message}"
            : $"{provider} failed ({why}); last error: {last.Message}";
        return new RouterException(RouterError.UpstreamFailed, message, retryAfter, last);
    }
}

/// <summary>Who an upstream call is for: stamped on the <see cref="UpstreamError"/> rows its failures leave.</summary>
internal readonly record struct CallOrigin(string? UserId, long? ApiTokenId, string Source)
{
    public UpstreamError Error(TimeProvider time, int providerId, long modelId, long? keyId, bool requestFailed, string errorClass, int? status)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new UpstreamError
        {
            CreatedAt = now, Day = DateOnly.FromDateTime(now), ProviderId = providerId, ModelId = modelId, ApiKeyId = keyId,
            UserId = UserId, ApiTokenId = ApiTokenId, Source = Source.Length <= 16 ? Source : Source[..16],
            RequestFailed = requestFailed, ErrorClass = errorClass, StatusCode = status,
        };
    }
}
