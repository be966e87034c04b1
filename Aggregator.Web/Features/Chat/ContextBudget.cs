using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Usage;

namespace Aggregator.Web.Features.Chat;

/// <param name="Tokens">Estimated prompt of the shown branch (system prompt and every turn).</param>
/// <param name="Window">The model's context window; null when unknown (the page hides the gauge).</param>
/// <param name="ReservedOutput">Tokens kept free for the reply (the max output setting, or a default).</param>
public sealed record ContextUsage(int Tokens, int? Window, int ReservedOutput);

/// <summary>
/// How much of a model's context window a conversation takes, estimated with <see cref="TokenEstimator"/> (the
/// model family's tokenizer, else about four characters a token). A question whose prompt and reserved output
/// would not fit is refused before anything is written; the page's gauge shows the same estimate.
/// </summary>
public sealed class ContextBudget(Conversations conversations, ReplyPrompts prompts)
{
    /// <summary>Role and separator tokens each turn costs beyond its text (OpenAI's chat format counts 3–4).</summary>
    const int PerTurnTokens = 4;
    /// <summary>Room kept for a reply when the conversation sets no max output (capped by the model's own ceiling).</summary>
    public const int DefaultReservedOutput = 1024;

    public static int Estimate(string modelId, string? system, IEnumerable<ChatTurn> turns)
    {
        var tokenizer = TokenEstimator.For(modelId);
        var total = string.IsNullOrEmpty(system) ? 0 : TokenEstimator.Count(tokenizer, system) + PerTurnTokens;
        foreach (var turn in turns) total += TokenEstimator.Count(tokenizer, turn.Content) + PerTurnTokens;
        return total;
    }

    public static int ReservedOutput(Conversation? conversation, CatalogModel model) =>
        (conversation is null ? null : ChatSettings.Of(conversation).For(model).MaxOutputTokens)
        ?? Math.Min(model.MaxOutputTokens ?? DefaultReservedOutput, DefaultReservedOutput);

    /// <summary>
    /// Why <paramref name="question"/> (saved already, or about to be: then it follows its ParentId) cannot be sent to
    /// <paramref name="model"/>; null when it fits or the model's window is unknown.
    /// </summary>
    public async Task<string?> OverflowAsync(string userId, Conversation conversation, Message question, CatalogModel model, CancellationToken ct)
    {
        if (model.ContextWindow is not { } window) return null;
        IReadOnlyList<ChatTurn> turns = question.Id > 0
            ? await conversations.HistoryAsync(conversation.Id, question.Id, ct)
            : [.. question.ParentId is { } parent ? await conversations.HistoryAsync(conversation.Id, parent, ct) : [], new ChatTurn(MessageRole.User, question.Content)];
        var tokens = Estimate(model.ModelId, await prompts.SystemPromptAsync(userId, conversation, ct), turns);
        var reserved = ReservedOutput(conversation, model);
        if (tokens + reserved <= window) return null;
        return $"This conversation is ~{tokens:N0} tokens (plus {reserved:N0} kept for the reply); {model.Name} takes {window:N0}. " +
               "Start a new chat or pick a model with a larger context.";
    }

    /// <summary>The gauge: the shown branch of <paramref name="conversation"/> (none: a new chat, only the instructions) for <paramref name="model"/>.</summary>
    public async Task<ContextUsage> UsageAsync(string userId, Conversation? conversation, CatalogModel model, CancellationToken ct)
    {
        IReadOnlyList<ChatTurn> turns = [];
        if (conversation is not null)
        {
            var tree = await conversations.TreeAsync(conversation.Id, ct);
            if (!tree.IsEmpty) turns = await conversations.HistoryAsync(conversation.Id, tree.CurrentLeaf(conversation.CurrentLeafId), ct);
        }
        var tokens = Estimate(model.ModelId, await prompts.SystemPromptAsync(userId, conversation, ct), turns);
        return new ContextUsage(tokens, model.ContextWindow, ReservedOutput(conversation, model));
    }
}
