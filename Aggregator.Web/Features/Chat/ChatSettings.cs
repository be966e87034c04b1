using System.Globalization;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// What a conversation (or a preset) asks of its replies beyond the model: its own system prompt (over the
/// user's custom instructions) and the sampling parameters. Null everywhere means the model's default.
/// </summary>
public sealed record ChatSettings(string? SystemPrompt = null, double? Temperature = null, double? TopP = null,
    int? MaxOutputTokens = null, string? ReasoningEffort = null)
{
    public static readonly ChatSettings None = new();

    public static ChatSettings Of(Conversation c) => new(c.SystemPrompt, c.Temperature, c.TopP, c.MaxOutputTokens, c.ReasoningEffort);

    public static ChatSettings Of(ChatPreset p) => new(p.SystemPrompt, p.Temperature, p.TopP, p.MaxOutputTokens, p.ReasoningEffort);

    public void ApplyTo(Conversation c)
    {
        c.SystemPrompt = SystemPrompt;
        c.Temperature = Temperature;
        c.TopP = TopP;
        c.MaxOutputTokens = MaxOutputTokens;
        c.ReasoningEffort = ReasoningEffort;
    }

    public void ApplyTo(ChatPreset p)
    {
        p.SystemPrompt = SystemPrompt;
        p.Temperature = Temperature;
        p.TopP = TopP;
        p.MaxOutputTokens = MaxOutputTokens;
        p.ReasoningEffort = ReasoningEffort;
    }

    /// <summary>
    /// What a reply with <paramref name="model"/> is sent: a setting the model cannot take is left out (reasoning
    /// effort for a model without reasoning), a max output above the model's ceiling is the ceiling. A conversation
    /// keeps its settings when its model changes; only what is sent follows the model.
    /// </summary>
    public ChatSettings For(CatalogModel model) => this with
    {
        ReasoningEffort = model.Capabilities.HasFlag(ModelCapabilities.Reasoning) ? ReasoningEffort : null,
        MaxOutputTokens = MaxOutputTokens is { } max && model.MaxOutputTokens is { } ceiling ? Math.Min(max, ceiling) : MaxOutputTokens,
    };
}

/// <summary>The limits a setting must keep, checked on every save (hub and account page), with messages fit to show.</summary>
public static class ChatSettingsRules
{
    public const int SystemPromptMaxChars = 20_000;
    public const int InstructionsMaxChars = 20_000;
    public const int PresetNameMaxChars = 80;
    public static readonly IReadOnlyList<string> Efforts = ["minimal", "low", "medium", "high"];

    /// <summary>Blank text as null, the effort in lower case: what is stored.</summary>
    public static ChatSettings Normalized(ChatSettings s) => s with
    {
        SystemPrompt = string.IsNullOrWhiteSpace(s.SystemPrompt) ? null : s.SystemPrompt.Trim(),
        ReasoningEffort = string.IsNullOrWhiteSpace(s.ReasoningEffort) ? null : s.ReasoningEffort.Trim().ToLowerInvariant(),
    };

    /// <summary>Why <paramref name="s"/> cannot be used with <paramref name="model"/>; null when it can.</summary>
    public static string? Problem(ChatSettings s, CatalogModel model)
    {
        if (s.SystemPrompt is { Length: > SystemPromptMaxChars } prompt)
            return $"The system prompt is {prompt.Length:N0} characters long; the limit is {SystemPromptMaxChars:N0}.";
        if (s.Temperature is { } t && (double.IsNaN(t) || t is < 0 or > 2))
            return $"Temperature must be between 0 and 2 (got {Number(t)}).";
        if (s.TopP is { } p && (double.IsNaN(p) || p is < 0 or > 1))
            return $"Top P must be between 0 and 1 (got {Number(p)}).";
        if (s.MaxOutputTokens is { } max)
        {
            if (max < 1) return $"Max output tokens must be at least 1 (got {max:N0}).";
            if (model.MaxOutputTokens is { } ceiling && max > ceiling)
                return $"{model.Name} writes at most {ceiling:N0} tokens per reply; max output tokens cannot be {max:N0}.";
            if (model.ContextWindow is { } window && max >= window)
                return $"{model.Name} takes {window:N0} tokens in all; max output tokens must be below that (got {max:N0}).";
        }
        if (s.ReasoningEffort is { } effort)
        {
            if (!Efforts.Contains(effort)) return $"Reasoning effort must be one of {string.Join(", ", Efforts)} (got “{effort}”).";
            if (!model.Capabilities.HasFlag(ModelCapabilities.Reasoning))
                return $"{model.Name} is not a reasoning model; leave reasoning effort at the default.";
        }
        return null;
    }

    public static string? InstructionsProblem(string? text) => text is { Length: > InstructionsMaxChars }
        ? $"Custom instructions are {text.Length:N0} characters long; the limit is {InstructionsMaxChars:N0}."
        : null;

    public static string? PresetNameProblem(string? name) => name?.Trim() switch
    {
        null or "" => "A preset needs a name.",
        { Length: > PresetNameMaxChars } n => $"A preset name can be at most {PresetNameMaxChars} characters (got {n.Length}).",
        _ => null,
    };

    static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
