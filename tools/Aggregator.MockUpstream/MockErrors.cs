using System.Text.Json.Nodes;

namespace Aggregator.MockUpstream;

/// <summary>Which provider a route imitates; decides auth, error bodies and model ids.</summary>
public enum MockRoot { OpenAI, OpenRouter, AiHubMix, Anthropic }

/// <summary>An error as the providers describe it; <see cref="Body"/> renders it in the root's own format.</summary>
internal sealed record MockError(int Status, string Message, string OpenAIType, string? Code, string? Param, string AnthropicType)
{
    public static MockError MissingKey(MockRoot root) => root == MockRoot.Anthropic
        ? new(401, "x-api-key header is required", "invalid_request_error", null, null, "authentication_error")
        : new(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "invalid_request_error", null, null, "authentication_error");

    public static MockError InvalidKey(string? key) =>
        new(401, $"Incorrect API key provided: {Masked(key)}. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error", "invalid_api_key", null, "authentication_error") { AnthropicMessage = "invalid x-api-key" };

    public static readonly MockError Forbidden =
        new(403, "Country, region, or territory not supported", "request_forbidden", "unsupported_country_region_territory", null, "permission_error")
        { AnthropicMessage = "Your API key does not have permission to use the specified resource." };

    public static MockError ModelNotFound(string model) =>
        new(404, $"The model `{model}` does not exist or you do not have access to it.", "invalid_request_error", "model_not_found", null, "not_found_error")
        { AnthropicMessage = $"model: {model}" };

    public static readonly MockError RateLimited =
        new(429, "Rate limit reached for requests. Please try again later.", "requests", "rate_limit_exceeded", null, "rate_limit_error")
        { AnthropicMessage = "Number of request tokens has exceeded your per-minute rate limit (https://docs.claude.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later." };

    public static readonly MockError InsufficientQuota =
        new(429, "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
            "insufficient_quota", "insufficient_quota", null, "billing_error")
        { AnthropicMessage = "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits." };

    public static readonly MockError ServerError =
        new(500, "The server had an error while processing your request. Sorry about that!", "server_error", null, null, "api_error")
        { AnthropicMessage = "Internal server error" };

    public static readonly MockError Unavailable =
        new(503, "The engine is currently overloaded, please try again later.", "server_error", null, null, "api_error")
        { AnthropicMessage = "Service unavailable" };

    public static readonly MockError Overloaded =
        new(529, "Overloaded", "server_error", null, null, "overloaded_error");

    public static MockError BadJson(MockRoot root) => root == MockRoot.Anthropic
        ? new(400, "There was an error parsing the body of your request. Please make sure it is valid JSON.", "invalid_request_error", null, null, "invalid_request_error")
        : new(400, "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
            "invalid_request_error", null, null, "invalid_request_error");

    public static readonly MockError MissingModel =
        new(400, "you must provide a model parameter", "invalid_request_error", null, null, "invalid_request_error") { AnthropicMessage = "model: Field required" };

    public static readonly MockError MissingMessages =
        new(400, "Missing required parameter: 'messages'.", "invalid_request_error", "missing_required_parameter", "messages", "invalid_request_error")
        { AnthropicMessage = "messages: Field required" };

    public static readonly MockError MissingMaxTokens =
        new(400, "max_tokens: Field required", "invalid_request_error", null, null, "invalid_request_error");

    public static readonly MockError MissingVersion =
        new(400, "anthropic-version: header is required", "invalid_request_error", null, null, "invalid_request_error");

    public static MockError BadParameter(string message) =>
        new(400, message, "invalid_request_error", null, null, "invalid_request_error");

    /// <summary>Anthropic words some errors differently from OpenAI.</summary>
    public string? AnthropicMessage { get; init; }

    public static readonly MockError GatewayTimeout =
        new(504, "Gateway Timeout: the upstream model did not answer in time.", "timeout", "gateway_timeout", null, "timeout_error");

    public static MockError ForFault(MockFault fault, string? key, string model) => fault.Name switch
    {
        "504" => GatewayTimeout,
        "401" => InvalidKey(key),
        "403" => Forbidden,
        "404" => ModelNotFound(model),
        "429" => RateLimited,
        "insufficient_quota" => InsufficientQuota,
        "500" => ServerError,
        "503" => Unavailable,
        _ => Overloaded,
    };

    public JsonObject Body(MockRoot root, string requestId) => root switch
    {
        MockRoot.Anthropic => new JsonObject
        {
            ["type"] = "error",
            ["error"] = new JsonObject { ["type"] = AnthropicType, ["message"] = AnthropicMessage ?? Message },
            ["request_id"] = requestId,
        },
        // OpenRouter: error.code is a number equal to the HTTP status.
        MockRoot.OpenRouter => new JsonObject
        {
            ["error"] = new JsonObject { ["code"] = Status == 429 && Code == "insufficient_quota" ? 402 : Status, ["message"] = Message },
        },
        _ => new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = Message, ["type"] = OpenAIType, ["param"] = Param, ["code"] = Code },
        },
    };

    /// <summary>OpenRouter (no credits) and Anthropic (billing_error) answer an empty balance with 402 rather than 429.</summary>
    public int StatusFor(MockRoot root) => root is MockRoot.OpenRouter or MockRoot.Anthropic && Code == "insufficient_quota" ? 402 : Status;

    /// <summary>
    /// The hostile gateway (faults <c>echo_key</c>, <c>echo_key_fragment</c>): the text carries what
    /// <paramref name="echoed"/> says about the key, where real gateways put it.
    /// </summary>
    public MockError Echoing(string? echoed) => echoed is null ? this
        : Code == "invalid_api_key"
            ? this with { Message = $"Incorrect API key provided: {echoed}. You can find your API key at https://platform.openai.com/account/api-keys.", AnthropicMessage = $"invalid x-api-key: {echoed}" }
            : this with { Message = $"{Message} (request made with API key {echoed})", AnthropicMessage = $"{AnthropicMessage ?? Message} (request made with API key {echoed})" };

    /// <summary>Recognisable pieces of a key, as gateways print them: masked ends, a bare tail, a middle run, URL-encoded.</summary>
    public static string Fragments(string key) => key.Length < 16
        ? $"{key[..2]}…{key[^4..]}"
        : $"{key[..6]}…{key[^4..]}, ***{key[^4..]}, part {key[4..14]}, encoded {Uri.EscapeDataString(key[2..^2])}";

    static string Masked(string? key) => key is null || key.Length < 8 ? "***" : $"{key[..4]}***{key[^4..]}";
}
