using System.Text.Json;
using Aggregator.Web.Data;

namespace Aggregator.Web.Upstream.Sync;

/// <summary>One page of a provider's model list, parsed.</summary>
public sealed record ModelListPage(ModelListShape Shape, IReadOnlyList<UpstreamModel> Models, int Skipped, bool HasMore, string? LastId);

/// <summary>A model list that cannot be read; the sync fails with this message and touches nothing.</summary>
public sealed class ModelListException(string message) : Exception(message);

/// <summary>
/// Reads the four model-list shapes we meet (OpenAI, OpenRouter, AiHubMix rich, Anthropic), taking type,
/// capabilities, context window, max output and pricing from the provider's metadata and falling back to
/// <see cref="ModelInference"/> only for what the provider leaves out (marked as inferred).
/// </summary>
public static class ModelListParser
{
    const decimal PerMillion = 1_000_000m;

    /// <param name="aiHubMixPriceTokens">How many tokens AiHubMix's price is for (1,000,000 by default; their docs are ambiguous).</param>
    public static ModelListPage Parse(JsonElement root, ModelListShape configured, decimal aiHubMixPriceTokens = PerMillion)
    {
        var data = root.ValueKind switch
        {
            JsonValueKind.Array => root,
            JsonValueKind.Object when root.Prop("data") is { ValueKind: JsonValueKind.Array } d => d,
            JsonValueKind.Object when root.Prop("error") is { } error =>
                throw new ModelListException("The provider answered with an error: " + Truncate(error.Str("message") ?? error.GetRawText())),
            _ => throw new ModelListException("The model list is not in a known shape: expected an object with a \"data\" array."),
        };
        if (root.ValueKind == JsonValueKind.Object && root.Bool("success") == false)
            throw new ModelListException("The provider reported failure: " + Truncate(root.Str("message") ?? "no message"));

        var shape = configured == ModelListShape.Auto ? Detect(root, data) : configured;
        var models = new List<UpstreamModel>(data.GetArrayLength());
        var skipped = 0;
        foreach (var item in data.EnumerateArray())
        {
            var model = item.ValueKind == JsonValueKind.Object ? ParseItem(item, shape, aiHubMixPriceTokens) : null;
            if (model is null) skipped++;
            else models.Add(model);
        }
        if (models.Count == 0 && skipped > 0)
            throw new ModelListException($"None of the {skipped} entries of the model list could be read as the {shape} shape.");

        var hasMore = shape == ModelListShape.Anthropic && root.Bool("has_more") == true;
        return new ModelListPage(shape, models, skipped, hasMore, root.Str("last_id") ?? models.LastOrDefault()?.ModelId);
    }

    static ModelListShape Detect(JsonElement root, JsonElement data)
    {
        if (data.GetArrayLength() == 0) return ModelListShape.OpenAI;
        var first = data[0];
        if (first.Prop("model_id") is not null) return ModelListShape.AiHubMix;
        if (first.Prop("architecture") is not null || first.Prop("supported_parameters") is not null
            || first.Prop("pricing") is { } p && p.Prop("prompt") is not null) return ModelListShape.OpenRouter;
        if (first.Str("type") == "model" || first.Prop("display_name") is not null || root.Prop("has_more") is not null) return ModelListShape.Anthropic;
        if (first.Prop("id") is not null) return ModelListShape.OpenAI;
        throw new ModelListException("The model list is not in a known shape: its entries have neither \"id\" nor \"model_id\".");
    }

    static UpstreamModel? ParseItem(JsonElement item, ModelListShape shape, decimal aiHubMixPriceTokens) => shape switch
    {
        ModelListShape.OpenRouter => OpenRouter(item),
        ModelListShape.AiHubMix => AiHubMix(item, aiHubMixPriceTokens),
        ModelListShape.Anthropic => Anthropic(item),
        _ => OpenAI(item),
    };

    static UpstreamModel? OpenAI(JsonElement item) =>
        CleanId(item.Str("id")) is { } id ? Inferred(id, name: null, description: null) : null;

    static UpstreamModel? OpenRouter(JsonElement item)
    {
        if (CleanId(item.Str("id")) is not { } id) return null;
        var arch = item.Prop("architecture");
        var input = arch?.Set("input_modalities");
        var output = arch?.Set("output_modalities");
        var parameters = item.Set("supported_parameters");

        var (type, typeInferred) = output is null
            ? (ModelInference.InferType(id), true)
            : (output.Contains("embeddings") || output.Contains("embedding") ? ModelType.Embedding
               : output.Contains("image") && !output.Contains("text") ? ModelType.Image
               : output.Contains("audio") && !output.Contains("text") ? ModelType.Audio
               : ModelType.Chat, false);

        var caps = ModelCapabilities.None;
        var inferred = ModelCapabilities.None;
        var guess = ModelInference.InferCapabilities(id, type);
        if (input is null) { caps |= guess & ModelCapabilities.Vision; inferred |= guess & ModelCapabilities.Vision; }
        else if (input.Contains("image")) caps |= ModelCapabilities.Vision;
        if (input?.Contains("audio") == true) caps |= ModelCapabilities.AudioInput;
        if (parameters is null)
        {
            var g = guess & (ModelCapabilities.Tools | ModelCapabilities.Reasoning);
            caps |= g; inferred |= g;
        }
        else
        {
            if (parameters.Contains("tools")) caps |= ModelCapabilities.Tools;
            if (parameters.Contains("reasoning") || parameters.Contains("include_reasoning")) caps |= ModelCapabilities.Reasoning;
            if (parameters.Contains("response_format") || parameters.Contains("structured_outputs")) caps |= ModelCapabilities.JsonOutput;
            if (parameters.Contains("web_search_options")) caps |= ModelCapabilities.WebSearch;
        }

        var pricing = item.Prop("pricing");
        var top = item.Prop("top_provider");
        return new UpstreamModel(id, item.Str("name"), Truncate(item.Str("description")), type, typeInferred, caps, inferred,
            item.Int("context_length") ?? top?.Int("context_length"), top?.Int("max_completion_tokens"),
            PerToken(pricing?.Dec("prompt")), PerToken(pricing?.Dec("completion")));
    }

    static UpstreamModel? AiHubMix(JsonElement item, decimal priceTokens)
    {
        if (CleanId(item.Str("model_id") ?? item.Str("id")) is not { } id) return null;
        var types = item.Set("types");
        var features = item.Set("features");
        var input = item.Set("input_modalities");

        var (type, typeInferred) = types is null || types.Count == 0
            ? (ModelInference.InferType(id), true)
            : (types.Contains("llm") ? ModelType.Chat
               : types.Contains("embedding") ? ModelType.Embedding
               : types.Contains("image_generation") ? ModelType.Image
               : types.Contains("video") ? ModelType.Video
               : types.Contains("tts") || types.Contains("stt") ? ModelType.Audio
               : types.Contains("rerank") ? ModelType.Rerank
               : ModelType.Other, false);

        var caps = ModelCapabilities.None;
        var inferred = ModelCapabilities.None;
        var guess = ModelInference.InferCapabilities(id, type);
        if (input is null) { caps |= guess & ModelCapabilities.Vision; inferred |= guess & ModelCapabilities.Vision; }
        else
        {
            if (input.Contains("image")) caps |= ModelCapabilities.Vision;
            if (input.Contains("audio")) caps |= ModelCapabilities.AudioInput;
        }
        if (features is null)
        {
            var g = guess & (ModelCapabilities.Tools | ModelCapabilities.Reasoning);
            caps |= g; inferred |= g;
        }
        else
        {
            if (features.Contains("tools") || features.Contains("function_calling")) caps |= ModelCapabilities.Tools;
            if (features.Contains("thinking") || features.Contains("reasoning")) caps |= ModelCapabilities.Reasoning;
            if (features.Contains("structured_outputs")) caps |= ModelCapabilities.JsonOutput;
            if (features.Contains("web") || features.Contains("search") || types?.Contains("search") == true) caps |= ModelCapabilities.WebSearch;
        }

        var pricing = item.Prop("pricing");
        var scale = PerMillion / priceTokens;
        return new UpstreamModel(id, item.Str("name"), Truncate(item.Str("desc")), type, typeInferred, caps, inferred,
            item.Int("context_length"), item.Int("max_output"),
            Price(pricing?.Dec("input"), scale), Price(pricing?.Dec("output"), scale));
    }

    static UpstreamModel? Anthropic(JsonElement item)
    {
        if (CleanId(item.Str("id")) is not { } id) return null;
        var guess = ModelInference.InferCapabilities(id, ModelType.Chat);
        var caps = guess;
        var inferred = guess;
        if (item.Prop("capabilities") is { } c && c.Prop("image_input") is { } image && image.Bool("supported") is { } vision)
        {
            caps = vision ? caps | ModelCapabilities.Vision : caps & ~ModelCapabilities.Vision;
            inferred &= ~ModelCapabilities.Vision;
        }
        return new UpstreamModel(id, item.Str("display_name"), null, ModelType.Chat, TypeInferred: false, caps, inferred,
            item.Int("max_input_tokens"), item.Int("max_tokens"), null, null);
    }

    static UpstreamModel Inferred(string id, string? name, string? description)
    {
        var type = ModelInference.InferType(id);
        var caps = ModelInference.InferCapabilities(id, type);
        return new UpstreamModel(id, name, description, type, TypeInferred: true, caps, caps, null, null, null, null);
    }

    /// <summary>Ids are kept as the provider spells them (odd characters included) unless empty, too long or with control characters.</summary>
    static string? CleanId(string? id)
    {
        id = id?.Trim();
        if (string.IsNullOrEmpty(id) || id.Length > 256 || id.Any(char.IsControl)) return null;
        return id;
    }

    // OpenRouter prices are USD per token as strings; "-1" means unknown, never a number to compute with.
    static decimal? PerToken(decimal? perToken) => perToken is >= 0 ? decimal.Round(perToken.Value * PerMillion, 6) : null;

    static decimal? Price(decimal? price, decimal scale) => price is >= 0 ? decimal.Round(price.Value * scale, 6) : null;

    static string? Truncate(string? text) => text is { Length: > 1000 } ? text[..1000] : text;
}
