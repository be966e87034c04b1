namespace Aggregator.MockUpstream;

public enum MockModelType { Chat, Embedding, Image }

/// <summary>One model of the mock catalogue; each list shape renders it its own way. Prices are USD per million tokens, null = unknown.</summary>
public sealed record MockModel(
    string Id,
    string Vendor,
    string Name,
    MockModelType Type,
    long Created,
    int ContextLength,
    int MaxOutput,
    decimal? InputPerMTok,
    decimal? OutputPerMTok,
    bool Vision,
    bool Tools,
    bool Reasoning,
    string Description)
{
    /// <summary>The id OpenRouter uses: <c>vendor/model</c>.</summary>
    public string OpenRouterId => $"{Vendor}/{Id}";

    public bool IsClaude => Id.StartsWith("claude-", StringComparison.Ordinal);
}

/// <summary>
/// Deterministic catalogue: model <c>i</c> is always the same, so the same count gives the same list,
/// and each generation adds, removes and changes an exact number of models.
/// </summary>
public static class MockCatalogue
{
    /// <summary>Far above any real provider, so the product's own cap (Sync:MaxModels, 20,000) can be tested past its edge.</summary>
    public const int MaxModels = 1_000_000;

    sealed record Family(string Vendor, string Id, string Name, MockModelType Type, int Context, int MaxOutput,
        decimal? Input, decimal? Output, bool Vision = false, bool Tools = true, bool Reasoning = false);

    static readonly Family[] Families =
    [
        new("openai", "gpt-4o", "GPT-4o", MockModelType.Chat, 128_000, 16_384, 2.5m, 10m, Vision: true),
        new("openai", "gpt-4o-mini", "GPT-4o mini", MockModelType.Chat, 128_000, 16_384, 0.15m, 0.6m, Vision: true),
        new("anthropic", "claude-sonnet-4-5", "Claude Sonnet 4.5", MockModelType.Chat, 200_000, 64_000, 3m, 15m, Vision: true, Reasoning: true),
        new("deepseek", "deepseek-chat", "DeepSeek V3", MockModelType.Chat, 64_000, 8_192, 0.27m, 1.1m),
        new("qwen", "qwen-max", "Qwen Max", MockModelType.Chat, 32_768, 8_192, 1.6m, 6.4m),
        new("meta-llama", "llama-3.3-70b-instruct", "Llama 3.3 70B Instruct", MockModelType.Chat, 131_072, 16_384, 0.13m, 0.4m),
        new("google", "gemini-2.5-pro", "Gemini 2.5 Pro", MockModelType.Chat, 1_048_576, 65_536, 1.25m, 10m, Vision: true, Reasoning: true),
        new("openai", "text-embedding-3-small", "Text Embedding 3 Small", MockModelType.Embedding, 8_192, 0, 0.02m, 0m, Tools: false),
        new("openai", "dall-e-3", "DALL·E 3", MockModelType.Image, 4_000, 0, 40m, 0m, Tools: false),
        new("openai", "gpt-4.1", "GPT-4.1", MockModelType.Chat, 1_047_576, 32_768, 2m, 8m, Vision: true),
        new("anthropic", "claude-opus-4-1", "Claude Opus 4.1", MockModelType.Chat, 200_000, 32_000, 15m, 75m, Vision: true, Reasoning: true),
        new("deepseek", "deepseek-reasoner", "DeepSeek R1", MockModelType.Chat, 64_000, 32_768, 0.55m, 2.19m, Tools: false, Reasoning: true),
        new("qwen", "qwen-plus", "Qwen Plus", MockModelType.Chat, 131_072, 8_192, 0.4m, 1.2m),
        new("meta-llama", "llama-3.1-8b-instruct", "Llama 3.1 8B Instruct", MockModelType.Chat, 131_072, 8_192, 0.02m, 0.05m),
        new("google", "gemini-2.5-flash", "Gemini 2.5 Flash", MockModelType.Chat, 1_048_576, 65_536, 0.3m, 2.5m, Vision: true, Reasoning: true),
        new("openai", "text-embedding-3-large", "Text Embedding 3 Large", MockModelType.Embedding, 8_192, 0, 0.13m, 0m, Tools: false),
        new("openai", "o3", "o3", MockModelType.Chat, 200_000, 100_000, 2m, 8m, Vision: true, Reasoning: true),
        new("anthropic", "claude-haiku-4-5", "Claude Haiku 4.5", MockModelType.Chat, 200_000, 64_000, 1m, 5m, Vision: true),
        new("deepseek", "deepseek-coder-v2", "DeepSeek Coder V2", MockModelType.Chat, 128_000, 8_192, 0.14m, 0.28m),
        new("qwen", "qwen3-235b-a22b", "Qwen3 235B A22B", MockModelType.Chat, 131_072, 32_768, 0.2m, 0.6m, Reasoning: true),
        new("meta-llama", "llama-4-maverick", "Llama 4 Maverick", MockModelType.Chat, 1_048_576, 16_384, 0.15m, 0.6m, Vision: true),
        new("google", "gemini-embedding-001", "Gemini Embedding 001", MockModelType.Embedding, 2_048, 0, 0.15m, 0m, Tools: false),
        new("openai", "gpt-image-1", "GPT Image 1", MockModelType.Image, 32_000, 0, 5m, 40m, Vision: true, Tools: false),
        new("openai", "o4-mini", "o4-mini", MockModelType.Chat, 200_000, 100_000, 1.1m, 4.4m, Vision: true, Reasoning: true),
        new("anthropic", "claude-3-5-haiku", "Claude 3.5 Haiku", MockModelType.Chat, 200_000, 8_192, 0.8m, 4m, Vision: true),
        new("mistralai", "mistral-large", "Mistral Large", MockModelType.Chat, 131_072, 8_192, 2m, 6m),
        new("qwen", "qwen-turbo", "Qwen Turbo", MockModelType.Chat, 1_000_000, 8_192, 0.05m, 0.2m),
        new("meta-llama", "llama-4-scout", "Llama 4 Scout", MockModelType.Chat, 327_680, 16_384, 0.08m, 0.3m, Vision: true),
        new("google", "gemini-2.0-flash", "Gemini 2.0 Flash", MockModelType.Chat, 1_048_576, 8_192, 0.1m, 0.4m, Vision: true),
        new("mistralai", "mistral-embed", "Mistral Embed", MockModelType.Embedding, 8_192, 0, 0.1m, 0m, Tools: false),
        new("black-forest-labs", "flux-1.1-pro", "FLUX 1.1 Pro", MockModelType.Image, 512, 0, 40m, 0m, Tools: false),
        new("openai", "gpt-5", "GPT-5", MockModelType.Chat, 400_000, 128_000, 1.25m, 10m, Vision: true, Reasoning: true),
        new("anthropic", "claude-3-7-sonnet", "Claude 3.7 Sonnet", MockModelType.Chat, 200_000, 64_000, 3m, 15m, Vision: true, Reasoning: true),
        new("mistralai", "codestral", "Codestral", MockModelType.Chat, 256_000, 8_192, 0.3m, 0.9m),
        new("qwen", "qwen3-coder", "Qwen3 Coder", MockModelType.Chat, 262_144, 65_536, 0.22m, 0.95m),
        new("x-ai", "grok-4", "Grok 4", MockModelType.Chat, 256_000, 64_000, 3m, 15m, Vision: true, Reasoning: true),
        new("qwen", "text-embedding-v3", "Qwen Text Embedding v3", MockModelType.Embedding, 8_192, 0, 0.07m, 0m, Tools: false),
        new("openai", "gpt-3.5-turbo", "GPT-3.5 Turbo", MockModelType.Chat, 16_385, 4_096, 0.5m, 1.5m),
        new("anthropic", "claude-3-opus", "Claude 3 Opus", MockModelType.Chat, 200_000, 4_096, 15m, 75m, Vision: true),
        new("mistralai", "mistral-small", "Mistral Small", MockModelType.Chat, 32_768, 8_192, 0.1m, 0.3m),
        new("openrouter", "auto", "Auto Router", MockModelType.Chat, 2_000_000, 0, null, null, Vision: true),
        new("x-ai", "grok-3-mini", "Grok 3 Mini", MockModelType.Chat, 131_072, 16_384, 0.3m, 0.5m, Reasoning: true),
        new("openai", "dall-e-2", "DALL·E 2", MockModelType.Image, 1_000, 0, 20m, 0m, Tools: false),
        new("deepseek", "deepseek-v3", "DeepSeek V3 0324", MockModelType.Chat, 163_840, 16_384, 0.25m, 0.85m),
        new("meta-llama", "llama-3.1-70b-instruct", "Llama 3.1 70B Instruct", MockModelType.Chat, 131_072, 16_384, 0.1m, 0.28m),
        new("openai", "text-embedding-ada-002", "Text Embedding Ada 002", MockModelType.Embedding, 8_192, 0, 0.1m, 0m, Tools: false),
        new("google", "imagen-4", "Imagen 4", MockModelType.Image, 480, 0, 40m, 0m, Tools: false),
        new("openai", "gpt-4.1-mini", "GPT-4.1 mini", MockModelType.Chat, 1_047_576, 32_768, 0.4m, 1.6m, Vision: true),
    ];

    static readonly string[] Suffixes =
    [
        "", "-latest", "-preview", "-2024-08-06", "-2024-11-20", "-0125", "-exp", "-beta", "-turbo", "-fast",
        "-lite", "-online", "-thinking", "-32k", "-128k", "-distill", "-fp8", "-int4", "-2025-03-01", "-nightly",
    ];

    static readonly Dictionary<string, string> VendorNames = new()
    {
        ["openai"] = "OpenAI", ["anthropic"] = "Anthropic", ["deepseek"] = "DeepSeek", ["qwen"] = "Qwen",
        ["meta-llama"] = "Meta", ["google"] = "Google", ["mistralai"] = "Mistral", ["x-ai"] = "xAI",
        ["black-forest-labs"] = "Black Forest Labs", ["openrouter"] = "OpenRouter",
    };

    public static string VendorName(string vendor) => VendorNames.GetValueOrDefault(vendor, vendor);

    /// <summary>Developer number used by the AiHubMix rich shape.</summary>
    public static int VendorNumber(string vendor) => Array.IndexOf([.. VendorNames.Keys], vendor) + 1;

    /// <summary>The i-th model of the endless deterministic sequence.</summary>
    public static MockModel ModelAt(int index)
    {
        var family = Families[index % Families.Length];
        var variant = index / Families.Length;
        var suffix = Suffixes[variant % Suffixes.Length];
        var round = variant / Suffixes.Length;
        var id = family.Id + (round > 0 ? $"-v{round + 1}" : "") + suffix;
        var name = family.Name
            + (suffix.Length > 0 ? " " + char.ToUpperInvariant(suffix[1]) + suffix[2..] : "")
            + (round > 0 ? $" v{round + 1}" : "");
        var factor = 1m + variant % 5 * 0.1m;
        return new MockModel(
            Id: id,
            Vendor: family.Vendor,
            Name: name,
            Type: family.Type,
            Created: 1_700_000_000L + index * 3_600L,
            ContextLength: family.Context,
            MaxOutput: family.MaxOutput,
            InputPerMTok: family.Input * factor,
            OutputPerMTok: family.Output * factor,
            Vision: family.Vision,
            Tools: family.Tools,
            Reasoning: family.Reasoning || suffix == "-thinking" && family.Type == MockModelType.Chat,
            Description: $"{name} by {VendorName(family.Vendor)}, mock model #{index}.");
    }

    /// <summary>The catalogue after <paramref name="generation"/> mutations of a <paramref name="count"/>-model start.</summary>
    public static List<MockModel> Build(int count, int generation, int added, int removed, int changed)
    {
        count = Math.Clamp(count, 1, MaxModels);
        var models = Enumerable.Range(0, count).Select(ModelAt).ToList();
        for (var g = 1; g <= generation; g++)
        {
            var random = new Random(unchecked(count * 7_919 + g * 104_729));
            for (var r = 0; r < removed && models.Count > 0; r++)
                models.RemoveAt(random.Next(models.Count));
            // Changed models come from the ones present before this generation and not removed.
            var candidates = Enumerable.Range(0, models.Count).OrderBy(_ => random.Next()).Take(Math.Min(changed, models.Count));
            foreach (var i in candidates)
                models[i] = Change(models[i], g);
            for (var a = 0; a < added; a++)
                models.Add(ModelAt(count + (g - 1) * added + a));
        }
        return models;
    }

    static MockModel Change(MockModel model, int generation) => ((generation + model.Id.Length) % 3) switch
    {
        0 => model with { ContextLength = model.ContextLength + 8_192 },
        1 => model with { InputPerMTok = model.InputPerMTok is { } p ? p + 0.5m : 1m, OutputPerMTok = model.OutputPerMTok is { } o ? o + 1m : 2m },
        _ => model with { Name = $"{model.Name} (rev {generation})" },
    };
}
