using System.Globalization;
using System.Text.Json;
using Aggregator.Web.Infrastructure;
using Aggregator.Web.Data;

namespace Aggregator.Web.Upstream.Sync;

/// <summary>One page of a provider's model list, parsed.</summary>
/// <param name="Entries">Entries the page's list had, usable or not.</param>
public sealed record ModelListPage(ModelListShape Shape, IReadOnlyList<UpstreamModel> Models, int Skipped, bool HasMore, string? LastId, int Entries = 0);

/// <summary>A model list that cannot be read; the sync fails with this message and touches nothing.</summary>
public class ModelListException(string message) : Exception(message);

/// <summary>A list with more entries than <c>Sync:MaxModels</c>: refused before anything is written.</summary>
public sealed class ModelListTooLargeException(int entries, int limit) : ModelListException(string.Format(CultureInfo.InvariantCulture,
    "The model list has {0:N0} entries, more than the limit of {1:N0} (Sync:MaxModels).", entries, limit))
{
    public int Entries { get; } = entries;
}

/// <summary>
/// Reads the four model-list shapes we meet (OpenAI, OpenRouter, AiHubMix rich, Anthropic), taking type,
/// capabilities, context window, max output and pricing from the provider's metadata and falling back to
/// <see cref="ModelInference"/> only for what the provider leaves out (marked as inferred).
/// </summary>
public static class ModelListParser
{
    const decimal PerMillion = 1_000_000m;

    /// <summary>Parses a list already in memory (tests, tools); the sync streams it with <see cref="ParseAsync"/>.</summary>
    /// <param name="aiHubMixPriceTokens">How many tokens AiHubMix's price is for (1,000,000 by default; their docs are ambiguous).</param>
    public static ModelListPage Parse(JsonElement root, ModelListShape configured, decimal aiHubMixPriceTokens = PerMillion, int maxModels = int.MaxValue)
    {
        var page = new PageBuilder(configured, aiHubMixPriceTokens, maxModels);
        var list = new ListRoot();
        switch (root.ValueKind)
        {
            case JsonValueKind.Array:
                list.HasData = true;
                foreach (var item in root.EnumerateArray()) page.Add(item);
                break;
            case JsonValueKind.Object:
                foreach (var property in root.EnumerateObject())
                {
                    if (property.NameEquals("data") && property.Value.ValueKind == JsonValueKind.Array)
                    {
                        list.HasData = true;
                        foreach (var item in property.Value.EnumerateArray()) page.Add(item);
                    }
                    else list.Properties[property.Name] = property.Value;
                }
                break;
        }
        return page.Finish(root.ValueKind is JsonValueKind.Array or JsonValueKind.Object ? list : null);
    }

    /// <summary>
    /// Parses a list as it streams in, one entry at a time: memory stays flat whatever the size, and entries
    /// beyond <paramref name="maxModels"/> are only counted (tokenised, never parsed) for the error message.
    /// </summary>
    /// <param name="maxModels">The cap on entries over the whole list (<c>Sync:MaxModels</c>).</param>
    /// <param name="earlierEntries">Entries on earlier pages of a paged list.</param>
    public static async Task<ModelListPage> ParseAsync(Stream body, ModelListShape configured, decimal aiHubMixPriceTokens,
        int maxModels, int earlierEntries, CancellationToken ct)
    {
        var page = new PageBuilder(configured, aiHubMixPriceTokens, maxModels, earlierEntries);
        var list = await ModelListReader.ReadAsync(body, page, ct);
        return page.Finish(list);
    }

    /// <summary>Collects one page: detects the shape on the first entry, parses each entry, and enforces the cap.</summary>
    internal sealed class PageBuilder(ModelListShape configured, decimal aiHubMixPriceTokens, int maxModels, int earlierEntries = 0)
    {
        readonly List<UpstreamModel> _models = [];
        ModelListShape? _shape = configured == ModelListShape.Auto ? null : configured;
        int _entries;
        int _skipped;

        /// <summary>False once the cap is passed: the reader then only counts the remaining entries.</summary>
        public bool WantsEntries => earlierEntries + _entries < maxModels;

        public void Add(JsonElement item)
        {
            if (earlierEntries + ++_entries > maxModels) return;
            var shape = _shape ??= Detect(item);
            var model = item.ValueKind == JsonValueKind.Object ? ParseItem(item, shape, aiHubMixPriceTokens) : null;
            if (model is null) _skipped++;
            else _models.Add(model);
        }

        public void Count() => _entries++;

        public ModelListPage Finish(ListRoot? root)
        {
            if (root is null || !root.HasData)
            {
                if (root?.Prop("error") is { } error)
                    throw new ModelListException("The provider answered with an error: " + Truncate(error.Str("message") ?? error.GetRawText()));
                throw new ModelListException("The model list is not in a known shape: expected an object with a \"data\" array.");
            }
            if (root.Prop("success")?.ValueKind == JsonValueKind.False)
                throw new ModelListException("The provider reported failure: " + Truncate(root.Str("message") ?? "no message"));
            if (earlierEntries + _entries > maxModels)
                throw new ModelListTooLargeException(earlierEntries + _entries, maxModels);
            var shape = _shape ?? ModelListShape.OpenAI; // an empty list says nothing about its shape
            if (_models.Count == 0 && _skipped > 0)
                throw new ModelListException($"None of the {_skipped} entries of the model list could be read as the {shape} shape.");

            var hasMore = shape == ModelListShape.Anthropic && root.Prop("has_more")?.ValueKind == JsonValueKind.True;
            var lastId = root.Str("last_id") ?? _models.LastOrDefault()?.ModelId;
            return new ModelListPage(shape, _models, _skipped, hasMore, lastId, _entries);
        }
    }

    static ModelListShape Detect(JsonElement first)
    {
        if (first.Prop("model_id") is not null) return ModelListShape.AiHubMix;
        if (first.Prop("architecture") is not null || first.Prop("supported_parameters") is not null
            || first.Prop("pricing") is { } p && p.Prop("prompt") is not null) return ModelListShape.OpenRouter;
        if (first.Str("type") == "model" || first.Prop("display_name") is not null) return ModelListShape.Anthropic;
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
        return new UpstreamModel(id, CleanName(item.Str("name")), Truncate(item.Str("description")), type, typeInferred, caps, inferred,
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
        return new UpstreamModel(id, CleanName(item.Str("name")), Truncate(item.Str("desc")), type, typeInferred, caps, inferred,
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
        return new UpstreamModel(id, CleanName(item.Str("display_name")), null, ModelType.Chat, TypeInferred: false, caps, inferred,
            item.Int("max_input_tokens"), item.Int("max_tokens"), null, null);
    }

    static UpstreamModel Inferred(string id, string? name, string? description)
    {
        var type = ModelInference.InferType(id);
        var caps = ModelInference.InferCapabilities(id, type);
        return new UpstreamModel(id, name, description, type, TypeInferred: true, caps, caps, null, null, null, null);
    }

    /// <summary>
    /// Ids are kept as the provider spells them (odd characters included), less invisible and control
    /// characters (<see cref="DisplayText.Clean"/>); an id left empty or too long is unusable.
    /// </summary>
    static string? CleanId(string? id)
    {
        id = id is null ? null : DisplayText.Clean(id).Trim();
        return string.IsNullOrEmpty(id) || id.Length > 256 ? null : id;
    }

    static string? CleanName(string? name) => DisplayText.CleanOrNull(name)?.Trim() is { Length: > 0 } n ? Truncate(n) : null;

    // OpenRouter prices are USD per token as strings; "-1" means unknown, never a number to compute with.
    static decimal? PerToken(decimal? perToken) => perToken is >= 0 ? decimal.Round(perToken.Value * PerMillion, 6) : null;

    static decimal? Price(decimal? price, decimal scale) => price is >= 0 ? decimal.Round(price.Value * scale, 6) : null;

    static string? Truncate(string? text) => text is { Length: > 1000 } ? text[..1000] : text;
}
