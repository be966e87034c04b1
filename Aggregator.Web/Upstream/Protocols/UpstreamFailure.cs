using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Aggregator.Web.Upstream.Keys;

namespace Aggregator.Web.Upstream.Protocols;

/// <summary>
/// One failed upstream attempt, classified: what it means for the key, whether another key may
/// succeed, and a message fit for the user. Internal to the router; callers see <see cref="RouterException"/>.
/// Built from a provider's error text only through <see cref="FromStatus"/> and <see cref="InBand"/>, which
/// redact the key first: no instance ever holds the key, so neither its message nor a log of it can.
/// </summary>
public sealed class UpstreamFailure(
    string message, bool retryable, KeyFault? keyFault = null, string? detail = null,
    TimeSpan? retryAfter = null, RouterError error = RouterError.UpstreamFailed, Exception? inner = null, string? providerText = null)
    : Exception(message, inner)
{
    /// <summary>Another key or provider may succeed where this attempt failed.</summary>
    public bool Retryable { get; } = retryable;
    /// <summary>What the failure says about the key, if anything.</summary>
    public KeyFault? KeyFault { get; } = keyFault;
    /// <summary>Short machine-ish description, e.g. "401 invalid_api_key" (the key's disabled reason).</summary>
    public string Detail { get; } = detail ?? message;
    public TimeSpan? RetryAfter { get; } = retryAfter;
    public RouterError Error { get; } = error;
    /// <summary>Status or code with the provider's own (redacted) words, e.g. "401 invalid_api_key: Incorrect API key…".</summary>
    public string ProviderText { get; } = providerText ?? detail ?? message;
    /// <summary>The HTTP status the provider answered (or put in an in-band error), when there was one.</summary>
    public int? Status { get; private init; }

    /// <summary>Classifies a non-success HTTP status with the provider's error body, redacted first.</summary>
    public static UpstreamFailure FromStatus(int status, UpstreamErrorBody body, TimeSpan? retryAfter, SecretRedactor redactor) =>
        Classify(status, redactor.Redact(body), retryAfter);

    static UpstreamFailure Classify(int status, UpstreamErrorBody body, TimeSpan? retryAfter)
    {
        var label = body.Code ?? body.Type;
        var detail = label is null ? $"{status}" : $"{status} {label}";
        var text = body.Message is { Length: > 0 } m ? $"{detail}: {Shorten(m)}" : detail;
        UpstreamFailure Failure(string message, bool retryable, KeyFault? fault, TimeSpan? retry = null, RouterError error = RouterError.UpstreamFailed) =>
            new(message, retryable, fault, detail, retry, error, providerText: text) { Status = status };
        if (IsQuota(body) || status == 402)
            return Failure($"The provider account is out of credit ({text})", true, Keys.KeyFault.QuotaExhausted);
        return status switch
        {
            401 or 403 => Failure($"The provider rejected the API key ({text})", true, Keys.KeyFault.InvalidKey),
            429 => Failure($"Rate limited by the provider ({text})", true, Keys.KeyFault.RateLimited, retryAfter),
            408 => Failure($"The provider timed out ({text})", true, Keys.KeyFault.Timeout),
            >= 500 => Failure($"The provider failed ({text})", true, Keys.KeyFault.ServerError, retryAfter),
            404 => Failure($"The provider does not serve this model ({text})", false, null, error: RouterError.ModelUnavailable),
            400 or 413 or 422 => Failure($"The provider refused the request ({text})", false, null, error: RouterError.InvalidRequest),
            _ => Failure($"The provider answered {text}", false, null),
        };
    }

    /// <summary>Classifies an error sent with HTTP 200 (a JSON error body, an SSE error event), redacted first.</summary>
    public static UpstreamFailure InBand(UpstreamErrorBody body, SecretRedactor redactor)
    {
        body = redactor.Redact(body);
        // OpenRouter puts the HTTP status it would have sent in error.code.
        if (int.TryParse(body.Code, NumberStyles.Integer, CultureInfo.InvariantCulture, out var status) && status is >= 400 and < 600)
            return Classify(status, body with { Code = null }, null);
        var kind = (body.Code ?? body.Type ?? "").ToLowerInvariant();
        var detail = $"error {body.Code ?? body.Type ?? "unknown"}";
        var text = body.Message is { Length: > 0 } m ? $"{detail}: {Shorten(m)}" : detail;
        if (IsQuota(body)) return new($"The provider account is out of credit ({text})", true, Keys.KeyFault.QuotaExhausted, detail, providerText: text);
        if (kind.Contains("rate_limit")) return new($"Rate limited by the provider ({text})", true, Keys.KeyFault.RateLimited, detail, providerText: text);
        if (kind is "invalid_api_key" or "authentication_error" or "permission_error")
            return new($"The provider rejected the API key ({text})", true, Keys.KeyFault.InvalidKey, detail, providerText: text);
        if (kind is "invalid_request_error" or "not_found_error" or "request_too_large")
            return new($"The provider refused the request ({text})", false, null, detail, error: RouterError.InvalidRequest, providerText: text);
        return new($"The provider reported an error ({text})", true, Keys.KeyFault.ServerError, detail, providerText: text);
    }

    public static UpstreamFailure Protocol(string what, Exception? inner = null) =>
        new($"The provider sent an unreadable reply ({what})", true, Keys.KeyFault.Transport, what, inner: inner);

    static bool IsQuota(UpstreamErrorBody body) =>
        string.Equals(body.Code, "insufficient_quota", StringComparison.OrdinalIgnoreCase)
        || string.Equals(body.Type, "insufficient_quota", StringComparison.OrdinalIgnoreCase);

    static string Shorten(string message) => message.Length <= 300 ? message : message[..300] + "…";

    /// <summary><c>retry-after-ms</c>, then <c>Retry-After</c> (seconds or an HTTP date).</summary>
    public static TimeSpan? ReadRetryAfter(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (headers.TryGetValues("retry-after-ms", out var ms)
            && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var millis) && millis >= 0)
            return TimeSpan.FromMilliseconds(millis);
        if (headers.RetryAfter is { } ra)
        {
            if (ra.Delta is { } delta) return delta;
            if (ra.Date is { } date) return date > now ? date - now : TimeSpan.Zero;
        }
        return null;
    }

    public static bool IsSuccess(HttpStatusCode status) => (int)status is >= 200 and < 300;
}
