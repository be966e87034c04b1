using System.Text.Json.Nodes;
using Aggregator.Web.Data;

namespace Aggregator.Web.Upstream;

// The one streaming interface between callers (chat hub, OpenAI-compatible API) and the router.
// Callers never see a provider's wire format, an API key or an HttpClient.

public sealed record ChatTurn(MessageRole Role, string Content);

/// <param name="ModelId">Catalogue row id (<see cref="AiModel.Id"/>): names provider and model id together.</param>
/// <param name="Extra">Unknown OpenAI request fields, forwarded untouched by the OpenAI adapter.</param>
/// <param name="MessageId">Assistant message being produced, recorded on the usage row.</param>
/// <param name="Quota">A message already counted by the caller (the chat checks the quota before it writes the
/// question); the router settles or refunds it. Null: the router takes it from the user's quota itself.</param>
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
    Usage.QuotaTicket? Quota = null);

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
