using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Routing;
using Microsoft.ML.Tokenizers;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>
/// Counts what a stream produced, so usage can be estimated when the provider reports none. With a
/// tokenizer for the model's family (<see cref="TokenEstimator"/>) the output pieces are kept (the
/// strings the stream already made, not copies) and counted only if the provider never reports usage.
/// </summary>
internal struct UsageMeter(Lazy<Tokenizer>? tokenizer)
{
    public int OutputChars;
    public TokenUsage? Reported;
    public string? FinishReason;
    List<string>? _pieces;

    public void Observe(StreamEvent e)
    {
        switch (e)
        {
            case ContentDelta c: Output(c.Text); break;
            case ReasoningDelta r: Output(r.Text); break;
            case ToolCallDelta t: Output(t.Name); Output(t.ArgumentsFragment); break;
            case UsageDelta u: Reported = u.Usage; _pieces = null; break;
            case FinishDelta f: FinishReason = f.FinishReason; break;
        }
    }

    void Output(string? text)
    {
        if (string.IsNullOrEmpty(text)) return;
        OutputChars += text.Length;
        if (tokenizer is not null && Reported is null) (_pieces ??= []).Add(text);
    }

    /// <summary>The provider's usage, or an estimate (the family's tokenizer, else about four characters a token) marked as such.</summary>
    public readonly TokenUsage Final(ChatRequest request)
    {
        if (Reported is { } reported) return reported;
        if (tokenizer is null)
        {
            var promptChars = request.System?.Length ?? 0;
            foreach (var turn in request.Messages) promptChars += turn.Content.Length + 4;
            return new TokenUsage(TokenEstimator.FromChars(promptChars), TokenEstimator.FromChars(OutputChars), Estimated: true);
        }
        // About four tokens of framing per message (role and separators), as OpenAI counts them.
        var encoding = tokenizer.Value;
        var prompt = TokenEstimator.Count(encoding, request.System);
        foreach (var turn in request.Messages) prompt += TokenEstimator.Count(encoding, turn.Content) + 4;
        var completion = 0;
        if (_pieces is not null) foreach (var piece in _pieces) completion += encoding.CountTokens(piece);
        return new TokenUsage(prompt, completion, Estimated: true);
    }

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
