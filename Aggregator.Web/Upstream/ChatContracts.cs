using System.Text.Json.Nodes;
using Aggregator.Web.Data;

namespace Aggregator.Web.Upstream;

// The one streaming interface between callers (chat hub, OpenAI-compatible API) and the router.
// Callers never see a provider's wire format, an API key or an HttpClient.

/// <summary>
/// One message of a conversation. <see cref="Content"/> is always its text (parts joined), so
/// estimates, titles and text-only upstreams need nothing else; the richer parts are optional.
/// </summary>
public sealed record ChatTurn(MessageRole Role, string Content)
{
    /// <summary>Text and images in order, when the message has more than text; null: <see cref="Content"/> is all.</summary>
    public IReadOnlyList<ContentPart>? Parts { get; init; }
    /// <summary>An assistant message's tool calls (Anthropic: its tool_use blocks).</summary>
    public IReadOnlyList<ToolCall>? ToolCalls { get; init; }
    /// <summary>A <see cref="MessageRole.Tool"/> message: the call it answers (Anthropic: tool_result.tool_use_id).</summary>
    public string? ToolCallId { get; init; }
    /// <summary>A tool result the tool reported as an error (Anthropic's is_error).</summary>
    public bool IsError { get; init; }
}

public abstract record ContentPart;
public sealed record TextPart(string Text) : ContentPart;
/// <summary>An image: a remote URL, or inline data (a data URL's media type and base64 payload).</summary>
public sealed record ImagePart(string? Url, string? MediaType, string? Base64Data, string? Detail = null) : ContentPart
{
    /// <summary>The image as OpenAI's image_url.url: the URL, or a data URL rebuilt from the inline data.</summary>
    public string AsUrl() => Url ?? $"data:{MediaType};base64,{Base64Data}";
}

/// <summary>A call the model made: arguments are the JSON text exactly as produced.</summary>
public sealed record ToolCall(string Id, string Name, string Arguments);

/// <summary>A function the caller offers; <see cref="Parameters"/> is its JSON Schema.</summary>
public sealed record ToolDefinition(string Name, string? Description, JsonNode? Parameters);

/// <summary>OpenAI's tool_choice in neutral terms: auto, none, required (Anthropic "any"), or one named function.</summary>
public sealed record ToolChoice(ToolChoiceMode Mode, string? Name = null, bool? ParallelToolCalls = null)
{
    public static readonly ToolChoice Auto = new(ToolChoiceMode.Auto);
}
public enum ToolChoiceMode { Auto, None, Required, Function }

/// <summary>
/// The caller's body as it arrived, for an upstream that speaks the same standard: that adapter sends
/// it with only model and streaming fields replaced, so fields this server does not know (and every
/// field inside messages) pass through untouched. Other standards are built from the neutral fields.
/// </summary>
public sealed record NativeBody(ApiStandard Standard, JsonObject Body);

/// <param name="ModelId">Catalogue row id (<see cref="AiModel.Id"/>): names provider and model id together.</param>
/// <param name="Extra">Unknown OpenAI request fields, forwarded untouched by the OpenAI adapter.</param>
/// <param name="MessageId">Assistant message being produced, recorded on the usage row.</param>
/// <param name="Quota">A message already counted by the caller (the chat checks the quota before it writes the
/// question); the router settles or refunds it. Null: the router takes it from the user's quota itself.</param>
/// <param name="ApiTokenId">The personal access token the request came with (API requests), recorded on the usage row.</param>
public sealed record ChatRequest(
    string UserId,
    Tier UserTier,
    long ModelId,
    IReadOnlyList<ChatTurn> Messages,
    int? MaxTokens = null,
    double? Temperature = null,
    JsonObject? Extra = null,
    string Source = "chat",
    long? MessageId = null,
    Usage.QuotaTicket? Quota = null,
    long? ApiTokenId = null)
{
    /// <summary>Top-level system prompt kept apart from the turns (Anthropic callers); adapters put it first.</summary>
    public string? System { get; init; }
    public IReadOnlyList<ToolDefinition>? Tools { get; init; }
    public ToolChoice? ToolChoice { get; init; }
    public IReadOnlyList<string>? Stop { get; init; }
    public double? TopP { get; init; }
    /// <summary>OpenAI's response_format object as sent (text, json_object, json_schema).</summary>
    public JsonObject? ResponseFormat { get; init; }
    /// <summary>minimal, low, medium or high (OpenAI reasoning_effort; Anthropic: a thinking budget).</summary>
    public string? ReasoningEffort { get; init; }
    /// <summary>Anthropic thinking budget asked for directly by an Anthropic caller.</summary>
    public int? ThinkingBudget { get; init; }
    /// <summary>
    /// False when the caller wants one whole reply: the upstream is asked for JSON rather than SSE, which
    /// is less work on both sides. The router streams either way (a JSON reply decodes into the same events).
    /// </summary>
    public bool UpstreamStreams { get; init; } = true;
    /// <summary>The caller's own body, for an upstream of the same standard; see <see cref="NativeBody"/>.</summary>
    public NativeBody? Native { get; init; }
}

public sealed record TokenUsage(int PromptTokens, int CompletionTokens, int ReasoningTokens = 0, int CachedTokens = 0, bool Estimated = false)
{
    public int Total => PromptTokens + CompletionTokens;
}

/// <summary>Which provider, model and key serve a request.</summary>
public sealed record RouteInfo(int ProviderId, string ProviderName, long ModelId, string UpstreamModelId, long ApiKeyId);

/// <summary>The internal streaming representation every protocol adapter produces.</summary>
public abstract record StreamEvent;

/// <summary>The upstream accepted the request; emitted once, before any delta (after failover settled).</summary>
public sealed record RouteStarted(RouteInfo Route) : StreamEvent;
public sealed record ContentDelta(string Text) : StreamEvent;
public sealed record ReasoningDelta(string Text) : StreamEvent;
public sealed record ToolCallDelta(int Index, string? Id, string? Name, string? ArgumentsFragment) : StreamEvent;
/// <summary>finish_reason in OpenAI terms: stop, length, tool_calls, content_filter, error.</summary>
public sealed record FinishDelta(string FinishReason) : StreamEvent;
public sealed record UsageDelta(TokenUsage Usage) : StreamEvent;
/// <summary>Always the last event of a successful stream; usage is the provider's or an estimate (marked).</summary>
public sealed record StreamCompleted(TokenUsage Usage, string FinishReason, decimal? CostUsd) : StreamEvent;

public interface IChatRouter
{
    /// <summary>
    /// Streams one completion. Failures before the first delta are retried on other keys inside the router;
    /// what escapes is a <see cref="RouterException"/>. After the first delta nothing is retried: an upstream
    /// failure ends the stream with <see cref="RouterError.Interrupted"/> (usage of what was produced is recorded).
    /// </summary>
    IAsyncEnumerable<StreamEvent> StreamAsync(ChatRequest request, CancellationToken cancellationToken);
}

public enum RouterError
{
    ModelNotFound,
    ModelUnavailable,
    TierTooLow,
    ProviderDisabled,
    NoActiveKey,
    QuotaExceeded,
    InvalidRequest,
    UpstreamFailed,
    Interrupted,
}

/// <summary>A routing failure with a message fit to show the user (never a secret).</summary>
public sealed class RouterException(RouterError error, string message, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(message, inner)
{
    public RouterError Error { get; } = error;
    /// <summary>For quota and rate limits: when to try again.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
