using System.Globalization;
using System.Text.Json;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Telemetry;
using Aggregator.Web.Upstream;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// An API error with its status (and Retry-After for limits), written in the caller's protocol
/// (<see cref="CallerStandard"/>): OpenAI's <c>{"error":{"message","type","param","code"}}</c> or
/// Anthropic's <c>{"type":"error","error":{"type","message"}}</c>. Thrown as <see cref="ApiException"/>
/// anywhere in a request; the API's endpoint filter turns it into the response, so no /v1 caller ever
/// gets HTML, a redirect or the other protocol's shape. <see cref="Type"/> is the OpenAI type;
/// Anthropic's follows from the status.
/// </summary>
public sealed record ApiError(int Status, string Type, string? Code, string Message, string? Param = null, TimeSpan? RetryAfter = null) : IResult
{
    public static ApiError BadRequest(string message, string? param, string code = "invalid_value") =>
        new(StatusCodes.Status400BadRequest, "invalid_request_error", code, message, param);

    public static ApiError Unauthorized(string message) =>
        new(StatusCodes.Status401Unauthorized, "invalid_request_error", "invalid_api_key", message);

    public static ApiError ModelNotFound(string model) =>
        new(StatusCodes.Status404NotFound, "invalid_request_error", "model_not_found",
            $"The model '{model}' does not exist or you do not have access to it. GET /v1/models lists the ids you can use.", "model");

    public static ApiError ModelNotAllowed(string message) =>
        new(StatusCodes.Status403Forbidden, "permission_error", "model_not_allowed", message, "model");

    public static ApiError RateLimited(string message, TimeSpan retryAfter) =>
        new(StatusCodes.Status429TooManyRequests, "rate_limit_error", "rate_limit_exceeded", message, null, retryAfter);

    /// <summary>A token's monthly budget is used up (OpenAI's own quota error is a 429 of type insufficient_quota).</summary>
    public static ApiError BudgetExhausted(string message, TimeSpan retryAfter) =>
        new(StatusCodes.Status429TooManyRequests, "insufficient_quota", "budget_exceeded", message, null, retryAfter);

    public static ApiError NotFound(string message) =>
        new(StatusCodes.Status404NotFound, "invalid_request_error", "not_found", message);

    public static ApiError Internal() =>
        new(StatusCodes.Status500InternalServerError, "server_error", "internal_error", "The server failed to handle the request. Try again.");

    /// <summary>The router's refusals in the API's terms.</summary>
    public static ApiError From(RouterException ex) => ex.Error switch
    {
        RouterError.ModelNotFound or RouterError.ModelUnavailable =>
            new(StatusCodes.Status404NotFound, "invalid_request_error", "model_not_found", ex.Message, "model"),
        RouterError.TierTooLow => ModelNotAllowed(ex.Message),
        RouterError.QuotaExceeded => RateLimited(ex.Message, ex.RetryAfter ?? TimeSpan.FromMinutes(1)),
        RouterError.InvalidRequest => BadRequest(ex.Message, null),
        RouterError.ProviderDisabled or RouterError.NoActiveKey =>
            new(StatusCodes.Status503ServiceUnavailable, "server_error", "model_unavailable", ex.Message, "model", ex.RetryAfter),
        _ => new(StatusCodes.Status502BadGateway, "upstream_error", "upstream_failed", ex.Message, null, ex.RetryAfter),
    };

    /// <summary>Anthropic's error type for the status (their API reference's table).</summary>
    public string AnthropicType => Status switch
    {
        StatusCodes.Status401Unauthorized => "authentication_error",
        StatusCodes.Status402PaymentRequired => "billing_error",
        StatusCodes.Status403Forbidden => "permission_error",
        StatusCodes.Status404NotFound => "not_found_error",
        StatusCodes.Status413PayloadTooLarge => "request_too_large",
        StatusCodes.Status429TooManyRequests => "rate_limit_error",
        StatusCodes.Status503ServiceUnavailable or 529 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    /// <summary>The body in the caller's protocol.</summary>
    public void WriteBody(Utf8JsonWriter w, ApiStandard standard)
    {
        if (standard == ApiStandard.Anthropic) WriteAnthropicBody(w);
        else WriteBody(w);
    }

    /// <summary>Anthropic's shape, the same in an HTTP body and in a stream's <c>event: error</c>.</summary>
    public void WriteAnthropicBody(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "error");
        w.WriteStartObject("error"u8);
        w.WriteString("type"u8, AnthropicType);
        w.WriteString("message"u8, TraceReference.Append(Message)); // inside the text: both SDKs parse the shape as it is
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>OpenAI's shape.</summary>
    public void WriteBody(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartObject("error"u8);
        w.WriteString("message"u8, TraceReference.Append(Message));
        w.WriteString("type"u8, Type);
        if (Param is null) w.WriteNull("param"u8); else w.WriteString("param"u8, Param);
        if (Code is null) w.WriteNull("code"u8); else w.WriteString("code"u8, Code);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = Status;
        response.ContentType = "application/json";
        if (RetryAfter is { } after)
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await using (var w = new Utf8JsonWriter(response.BodyWriter)) WriteBody(w, CallerStandard.Of(httpContext));
        await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
    }
}

/// <summary>Ends the request with <see cref="Error"/>.</summary>
public sealed class ApiException(ApiError error) : Exception(error.Message)
{
    public ApiError Error { get; } = error;
}
