using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>Counts what a stream produced, so usage can be estimated when the provider reports none.</summary>
internal struct UsageMeter
{
    public int OutputChars;
    public TokenUsage? Reported;
    public string? FinishReason;

    public void Observe(StreamEvent e)
    {
        switch (e)
        {
            case ContentDelta c: OutputChars += c.Text.Length; break;
            case ReasoningDelta r: OutputChars += r.Text.Length; break;
            case ToolCallDelta t: OutputChars += (t.Name?.Length ?? 0) + (t.ArgumentsFragment?.Length ?? 0); break;
            case UsageDelta u: Reported = u.Usage; break;
            case FinishDelta f: FinishReason = f.FinishReason; break;
        }
    }

    /// <summary>The provider's usage, or an estimate (about four characters a token) marked as such.</summary>
    public readonly TokenUsage Final(ChatRequest request)
    {
        if (Reported is { } reported) return reported;
        var promptChars = 0;
        foreach (var turn in request.Messages) promptChars += turn.Content.Length + 4;
        return new TokenUsage(Tokens(promptChars), Tokens(OutputChars), Estimated: true);
    }

    static int Tokens(int chars) => (chars + 3) / 4;

    public static decimal? Cost(ModelRoute model, TokenUsage usage) =>
        model.InputPricePerMTok is { } input && model.OutputPricePerMTok is { } output
            ? (usage.PromptTokens * input + usage.CompletionTokens * output) / 1_000_000m
            : null;

    public static UsageRecord ToRecord(ChatRequest request, ModelRoute model, long? keyId, TokenUsage usage, decimal? cost, DateTime now) => new()
    {
        UserId = request.UserId,
        ProviderId = model.ProviderId,
        ApiKeyId = keyId,
        ModelId = model.Id,
        MessageId = request.MessageId,
        ApiTokenId = request.ApiTokenId,
        Source = request.Source.Length <= 16 ? request.Source : request.Source[..16],
        Day = DateOnly.FromDateTime(now),
        CreatedAt = now,
        PromptTokens = usage.PromptTokens,
        CompletionTokens = usage.CompletionTokens,
        ReasoningTokens = usage.ReasoningTokens,
        CachedTokens = usage.CachedTokens,
        Estimated = usage.Estimated,
        CostUsd = cost,
    };
}
