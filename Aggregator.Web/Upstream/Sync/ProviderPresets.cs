using Aggregator.Web.Data;

namespace Aggregator.Web.Upstream.Sync;

/// <summary>A well-known provider: what the admin gets by picking it from the list.</summary>
public sealed record ProviderPreset(
    string Name, string DisplayName, ProviderKind Kind, ApiStandard ApiStandard,
    string BaseUrl, string? ModelsUrl, ModelListShape ListShape, Tier DefaultTier, string Notes);

public static class ProviderPresets
{
    public static readonly IReadOnlyList<ProviderPreset> All =
    [
        new("aihubmix", "AiHubMix", ProviderKind.Aggregator, ApiStandard.OpenAI,
            "https://aihubmix.com/v1", "https://aihubmix.com/api/v1/models", ModelListShape.AiHubMix, Tier.Free,
            "Hundreds of models behind one key; the rich model list carries types, features and pricing."),
        new("openrouter", "OpenRouter", ProviderKind.Aggregator, ApiStandard.OpenAI,
            "https://openrouter.ai/api/v1", null, ModelListShape.OpenRouter, Tier.Free,
            "Model list with context length, modalities, supported parameters and per-token pricing."),
        new("siliconflow", "SiliconFlow", ProviderKind.Aggregator, ApiStandard.OpenAI,
            "https://api.siliconflow.cn/v1", null, ModelListShape.OpenAI, Tier.Free,
            "OpenAI-compatible; the model list has ids only, capabilities are inferred."),
        new("openai", "OpenAI", ProviderKind.Direct, ApiStandard.OpenAI,
            "https://api.openai.com/v1", null, ModelListShape.OpenAI, Tier.Pro,
            "Direct provider; the model list has ids only, capabilities are inferred."),
        new("anthropic", "Anthropic", ProviderKind.Direct, ApiStandard.Anthropic,
            "https://api.anthropic.com/v1", null, ModelListShape.Anthropic, Tier.Pro,
            "Messages API; the model list is paged and names context window and max output."),
        new("custom", "Custom (OpenAI-compatible)", ProviderKind.Aggregator, ApiStandard.OpenAI,
            "https://", null, ModelListShape.Auto, Tier.Free,
            "Any OpenAI-compatible gateway; the list shape is detected automatically."),
    ];

    public static ProviderPreset? Find(string? name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
}
