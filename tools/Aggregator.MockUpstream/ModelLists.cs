using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Aggregator.MockUpstream;

/// <summary>
/// The model list in each provider's shape: OpenAI, OpenRouter, AiHubMix (legacy and rich), Anthropic (paged).
/// Written with Utf8JsonWriter and cached per catalogue state: a 20,000-model OpenRouter list is ~15 MB.
/// </summary>
internal static class ModelLists
{
    sealed record Lookup(Dictionary<string, MockModel> Ids, Dictionary<string, MockModel> OpenRouterIds);
    static readonly ConditionalWeakTable<IReadOnlyList<MockModel>, Lookup> Lookups = new();

    /// <summary>Whether a root serves this model id (OpenRouter uses vendor/model ids; Anthropic only claude-*).</summary>
    public static bool Serves(MockUpstreamState state, MockRoot root, string id) => Find(state, root, id) is not null;

    /// <summary>The model a root serves under this id, or null.</summary>
    public static MockModel? Find(MockUpstreamState state, MockRoot root, string id)
    {
        var lookup = Lookups.GetValue(state.Models, models =>
        {
            var (ids, openRouterIds) = (new Dictionary<string, MockModel>(StringComparer.Ordinal), new Dictionary<string, MockModel>(StringComparer.Ordinal));
            foreach (var m in models) { ids.TryAdd(m.Id, m); openRouterIds.TryAdd(m.OpenRouterId, m); }
            return new Lookup(ids, openRouterIds);
        });
        return root switch
        {
            MockRoot.OpenRouter => lookup.OpenRouterIds.GetValueOrDefault(id),
            MockRoot.Anthropic => id.StartsWith("claude-", StringComparison.Ordinal) ? lookup.Ids.GetValueOrDefault(id) : null,
            _ => lookup.Ids.GetValueOrDefault(id),
        };
    }

    public static async Task HandleAsync(HttpContext http, MockRoot root, string shape, MockUpstreamState state)
    {
        var request = await MockRequest.ReadAsync(http, root, state);
        // OpenRouter's and AiHubMix's public lists need no key; the others do.
        var keyRequired = shape is "openai" or "aihubmix-legacy" or "anthropic";
        if (await request.AnsweredByFaultAsync(keyRequired)) return;
        if (request.Faults.Argument("slow") is { } slow) await Task.Delay(slow, request.Aborted);

        var strings = request.Faults.Has("numbers_as_strings");
        var huge = request.Faults.Has("huge");
        var models = state.Models;
        var query = http.Request.Query;
        if (shape == "anthropic" && query.ContainsKey("limit") && (!int.TryParse(query["limit"], out var limit) || limit is < 1 or > 1000))
        {
            await request.ErrorAsync(MockError.BadParameter("limit: Input should be less than or equal to 1000"));
            return;
        }
        var cacheKey = $"{shape}|{http.Request.QueryString}|{strings}|{huge}|{state.ModelCount}|{state.CatalogueGeneration}";
        var body = state.ListCache(cacheKey, () => Render(shape, models, query, strings,
            huge ? new string('x', 10_000_000 / Math.Max(1, models.Count)) : ""));
        await request.JsonAsync(body);
    }

    static byte[] Render(string shape, IReadOnlyList<MockModel> models, IQueryCollection query, bool strings, string padding)
    {
        var buffer = new ArrayBufferWriter<byte>(models.Count * 256);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = MockJson.Options.Encoder }))
        {
            var json = new QuirkyJsonWriter(w, strings);
            switch (shape)
            {
                case "openai": OpenAI(json, models); break;
                case "openrouter": OpenRouter(json, models, query["output_modalities"], padding); break;
                case "aihubmix-legacy": AiHubMixLegacy(json, models); break;
                case "aihubmix-rich": AiHubMixRich(json, models, query["type"], padding); break;
                default: Anthropic(json, models, query); break;
            }
        }
        return buffer.WrittenSpan.ToArray();
    }

    static void OpenAI(QuirkyJsonWriter json, IReadOnlyList<MockModel> models)
    {
        var w = json.W;
        w.WriteStartObject();
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        foreach (var m in models)
        {
            w.WriteStartObject();
            w.WriteString("id", m.Id);
            w.WriteString("object", "model");
            json.Number("created", m.Created);
            w.WriteString("owned_by", m.Vendor == "openai" ? "system" : m.Vendor);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Text-output models only, unless <c>?output_modalities=all</c> (or a list such as <c>embeddings,image</c>).</summary>
    static void OpenRouter(QuirkyJsonWriter json, IReadOnlyList<MockModel> models, string? outputModalities, string padding)
    {
        var wanted = string.IsNullOrEmpty(outputModalities) ? ["text"] : outputModalities.Split(',', StringSplitOptions.TrimEntries);
        var all = wanted.Contains("all");
        var w = json.W;
        w.WriteStartObject();
        w.WriteStartArray("data");
        foreach (var m in models.Where(m => all || wanted.Contains(OutputModality(m))))
        {
            string[] input = m.Vision ? ["text", "image"] : ["text"];
            w.WriteStartObject();
            w.WriteString("id", m.OpenRouterId);
            w.WriteString("canonical_slug", m.OpenRouterId);
            w.WriteString("hugging_face_id", "");
            w.WriteString("name", $"{MockCatalogue.VendorName(m.Vendor)}: {m.Name}");
            json.Number("created", m.Created);
            w.WriteString("description", m.Description + padding);
            json.Number("context_length", m.ContextLength);
            w.WriteStartObject("architecture");
            w.WriteString("modality", $"{string.Join('+', input)}->{OutputModality(m)}");
            json.Strings("input_modalities", input);
            json.Strings("output_modalities", [OutputModality(m)]);
            w.WriteString("tokenizer", MockCatalogue.VendorName(m.Vendor));
            w.WriteNull("instruct_type");
            w.WriteEndObject();
            w.WriteStartObject("pricing");
            w.WriteString("prompt", PerToken(m.InputPerMTok));
            w.WriteString("completion", PerToken(m.OutputPerMTok));
            w.WriteString("request", "0");
            w.WriteString("image", "0");
            w.WriteString("web_search", "0");
            w.WriteString("internal_reasoning", "0");
            w.WriteEndObject();
            w.WriteStartObject("top_provider");
            json.Number("context_length", m.ContextLength);
            if (m.MaxOutput > 0) json.Number("max_completion_tokens", m.MaxOutput);
            else w.WriteNull("max_completion_tokens");
            w.WriteBoolean("is_moderated", m.Vendor == "openai");
            w.WriteEndObject();
            w.WriteNull("per_request_limits");
            json.Strings("supported_parameters", SupportedParameters(m));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    static string OutputModality(MockModel m) => m.Type switch
    {
        MockModelType.Embedding => "embeddings",
        MockModelType.Image => "image",
        _ => "text",
    };

    /// <summary>USD per token as a decimal string; "-1" when unknown (router models).</summary>
    static string PerToken(decimal? perMillion) =>
        perMillion is { } p ? (p / 1_000_000m).ToString("0.############", CultureInfo.InvariantCulture) : "-1";

    static IEnumerable<string> SupportedParameters(MockModel m)
    {
        if (m.Type != MockModelType.Chat) yield break;
        foreach (var p in new[] { "max_tokens", "temperature", "top_p", "stop", "seed", "response_format" }) yield return p;
        if (m.Tools) { yield return "tools"; yield return "tool_choice"; }
        if (m.Reasoning) { yield return "reasoning"; yield return "include_reasoning"; }
    }

    /// <summary>one-api style: OpenAI items plus permission, root and parent; no top-level object.</summary>
    static void AiHubMixLegacy(QuirkyJsonWriter json, IReadOnlyList<MockModel> models)
    {
        var w = json.W;
        w.WriteStartObject();
        w.WriteStartArray("data");
        foreach (var m in models)
        {
            w.WriteStartObject();
            w.WriteString("id", m.Id);
            w.WriteString("object", "model");
            json.Number("created", 1_626_777_600L);
            w.WriteString("owned_by", m.Vendor);
            w.WriteStartArray("permission");
            w.WriteStartObject();
            w.WriteString("id", "modelperm-LwHkVFn8AcMItP432fKKDIKJ");
            w.WriteString("object", "model_permission");
            json.Number("created", 1_626_777_600L);
            w.WriteBoolean("allow_create_engine", true);
            w.WriteBoolean("allow_sampling", true);
            w.WriteBoolean("allow_logprobs", true);
            w.WriteBoolean("allow_search_indices", false);
            w.WriteBoolean("allow_view", true);
            w.WriteBoolean("allow_fine_tuning", false);
            w.WriteString("organization", "*");
            w.WriteNull("group");
            w.WriteBoolean("is_blocking", false);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteString("root", m.Id);
            w.WriteNull("parent");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>AiHubMix's public rich list: comma-separated strings, prices as numbers (USD per million tokens).</summary>
    static void AiHubMixRich(QuirkyJsonWriter json, IReadOnlyList<MockModel> models, string? type, string padding)
    {
        var w = json.W;
        w.WriteStartObject();
        w.WriteBoolean("success", true);
        w.WriteString("message", "");
        w.WriteStartArray("data");
        foreach (var m in models.Where(m => string.IsNullOrEmpty(type) || RichTypes(m).Split(',').Contains(type)))
        {
            w.WriteStartObject();
            w.WriteString("model_id", m.Id);
            w.WriteNumber("developer_id", MockCatalogue.VendorNumber(m.Vendor));
            w.WriteString("desc", m.Description + padding);
            w.WriteString("types", RichTypes(m));
            w.WriteString("features", string.Join(',', RichFeatures(m)));
            w.WriteString("input_modalities", m.Vision ? "text,image" : "text");
            json.Number("max_output", m.MaxOutput);
            json.Number("context_length", m.ContextLength);
            w.WriteStartObject("pricing");
            json.Number("input", m.InputPerMTok ?? 0m);
            json.Number("output", m.OutputPerMTok ?? 0m);
            if (m.Type == MockModelType.Chat) json.Number("cache_read", (m.InputPerMTok ?? 0m) / 10m);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    static string RichTypes(MockModel m) => m.Type switch
    {
        MockModelType.Embedding => "embedding",
        MockModelType.Image => "image_generation",
        _ => m.Id.EndsWith("-online", StringComparison.Ordinal) ? "llm,search" : "llm",
    };

    static IEnumerable<string> RichFeatures(MockModel m)
    {
        if (m.Reasoning) yield return "thinking";
        if (m.Tools) { yield return "tools"; yield return "function_calling"; }
        if (m.Type == MockModelType.Chat) yield return "structured_outputs";
    }

    /// <summary>claude-* models, paged by limit (1–1000, default 20), after_id and before_id.</summary>
    static void Anthropic(QuirkyJsonWriter json, IReadOnlyList<MockModel> models, IQueryCollection query)
    {
        var limit = int.TryParse(query["limit"], out var l) ? l : 20;
        var claude = models.Where(m => m.IsClaude).ToList();
        var start = 0;
        var end = claude.Count;
        if (query["after_id"].ToString() is { Length: > 0 } after) start = claude.FindIndex(m => m.Id == after) + 1;
        if (query["before_id"].ToString() is { Length: > 0 } before)
        {
            end = Math.Max(0, claude.FindIndex(m => m.Id == before));
            start = Math.Max(start, end - limit);
        }
        var page = claude.Skip(start).Take(Math.Min(limit, Math.Max(0, end - start))).ToList();
        var hasMore = query.ContainsKey("before_id") ? start > 0 : start + page.Count < end;

        var w = json.W;
        w.WriteStartObject();
        w.WriteStartArray("data");
        foreach (var m in page)
        {
            w.WriteStartObject();
            w.WriteString("type", "model");
            w.WriteString("id", m.Id);
            w.WriteString("display_name", m.Name);
            w.WriteString("created_at", DateTimeOffset.FromUnixTimeSeconds(m.Created).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            json.Number("max_input_tokens", m.ContextLength);
            json.Number("max_tokens", m.MaxOutput);
            w.WriteStartObject("capabilities");
            w.WriteStartObject("image_input");
            w.WriteBoolean("supported", m.Vision);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteBoolean("has_more", hasMore);
        if (page.Count > 0) { w.WriteString("first_id", page[0].Id); w.WriteString("last_id", page[^1].Id); }
        else { w.WriteNull("first_id"); w.WriteNull("last_id"); }
        w.WriteEndObject();
    }
}
