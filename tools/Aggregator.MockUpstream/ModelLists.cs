using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Aggregator.MockUpstream;

/// <summary>The model list in each provider's shape: OpenAI, OpenRouter, AiHubMix (legacy and rich), Anthropic (paged).</summary>
internal static class ModelLists
{
    sealed record Lookup(HashSet<string> Ids, HashSet<string> OpenRouterIds);
    static readonly ConditionalWeakTable<IReadOnlyList<MockModel>, Lookup> Lookups = new();

    /// <summary>Whether a root serves this model id (OpenRouter uses vendor/model ids; Anthropic only claude-*).</summary>
    public static bool Serves(MockUpstreamState state, MockRoot root, string id)
    {
        var lookup = Lookups.GetValue(state.Models, models => new Lookup(
            [.. models.Select(m => m.Id)], [.. models.Select(m => m.OpenRouterId)]));
        return root switch
        {
            MockRoot.OpenRouter => lookup.OpenRouterIds.Contains(id),
            MockRoot.Anthropic => id.StartsWith("claude-", StringComparison.Ordinal) && lookup.Ids.Contains(id),
            _ => lookup.Ids.Contains(id),
        };
    }

    public static async Task HandleAsync(HttpContext http, MockRoot root, string shape, MockUpstreamState state)
    {
        var request = await MockRequest.ReadAsync(http, root, state);
        // OpenRouter's and AiHubMix's public lists need no key; the others do.
        var keyRequired = shape is "openai" or "aihubmix-legacy" or "anthropic";
        if (await request.AnsweredByFaultAsync(keyRequired)) return;
        var models = state.Models;
        var strings = request.Faults.Has("numbers_as_strings");
        var padding = request.Faults.Has("huge") ? new string('x', Math.Max(0, 10_000_000 / Math.Max(1, models.Count))) : "";
        if (request.Faults.Argument("slow") is { } slow) await Task.Delay(slow, request.Aborted);
        JsonNode body = shape switch
        {
            "openai" => OpenAI(models, strings),
            "openrouter" => OpenRouter(models, http.Request.Query["output_modalities"], strings, padding),
            "aihubmix-legacy" => AiHubMixLegacy(models, strings),
            "aihubmix-rich" => AiHubMixRich(models, http.Request.Query["type"], strings, padding),
            _ => null!,
        };
        if (shape == "anthropic")
        {
            if (Anthropic(models, http.Request.Query, strings) is not { } page)
            {
                await request.ErrorAsync(MockError.BadParameter("limit: Input should be less than or equal to 1000"));
                return;
            }
            body = page;
        }
        await request.JsonAsync(body);
    }

    static JsonObject OpenAI(IReadOnlyList<MockModel> models, bool strings) => new()
    {
        ["object"] = "list",
        ["data"] = new JsonArray([.. models.Select(m => (JsonNode)new JsonObject
        {
            ["id"] = m.Id,
            ["object"] = "model",
            ["created"] = MockJson.Number(m.Created, strings),
            ["owned_by"] = m.Vendor == "openai" ? "system" : m.Vendor,
        })]),
    };

    /// <summary>Text-output models only, unless <c>?output_modalities=all</c> (or a list such as <c>embeddings,image</c>).</summary>
    static JsonObject OpenRouter(IReadOnlyList<MockModel> models, string? outputModalities, bool strings, string padding)
    {
        var wanted = string.IsNullOrEmpty(outputModalities) ? ["text"] : outputModalities.Split(',', StringSplitOptions.TrimEntries);
        var all = wanted.Contains("all");
        return new JsonObject
        {
            ["data"] = new JsonArray([.. models.Where(m => all || wanted.Contains(OutputModality(m))).Select(m =>
            {
                var input = m.Vision ? new[] { "text", "image" } : ["text"];
                return (JsonNode)new JsonObject
                {
                    ["id"] = m.OpenRouterId,
                    ["canonical_slug"] = m.OpenRouterId,
                    ["hugging_face_id"] = "",
                    ["name"] = $"{MockCatalogue.VendorName(m.Vendor)}: {m.Name}",
                    ["created"] = MockJson.Number(m.Created, strings),
                    ["description"] = m.Description + padding,
                    ["context_length"] = MockJson.Number(m.ContextLength, strings),
                    ["architecture"] = new JsonObject
                    {
                        ["modality"] = $"{string.Join('+', input)}->{OutputModality(m)}",
                        ["input_modalities"] = new JsonArray([.. input.Select(i => (JsonNode)i)]),
                        ["output_modalities"] = new JsonArray(OutputModality(m)),
                        ["tokenizer"] = MockCatalogue.VendorName(m.Vendor),
                        ["instruct_type"] = null,
                    },
                    ["pricing"] = new JsonObject
                    {
                        ["prompt"] = PerToken(m.InputPerMTok),
                        ["completion"] = PerToken(m.OutputPerMTok),
                        ["request"] = "0",
                        ["image"] = "0",
                        ["web_search"] = "0",
                        ["internal_reasoning"] = "0",
                    },
                    ["top_provider"] = new JsonObject
                    {
                        ["context_length"] = MockJson.Number(m.ContextLength, strings),
                        ["max_completion_tokens"] = m.MaxOutput > 0 ? MockJson.Number(m.MaxOutput, strings) : null,
                        ["is_moderated"] = m.Vendor == "openai",
                    },
                    ["per_request_limits"] = null,
                    ["supported_parameters"] = new JsonArray([.. SupportedParameters(m).Select(p => (JsonNode)p)]),
                };
            })]),
        };
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
    static JsonObject AiHubMixLegacy(IReadOnlyList<MockModel> models, bool strings) => new()
    {
        ["data"] = new JsonArray([.. models.Select(m => (JsonNode)new JsonObject
        {
            ["id"] = m.Id,
            ["object"] = "model",
            ["created"] = MockJson.Number(1_626_777_600L, strings),
            ["owned_by"] = m.Vendor,
            ["permission"] = new JsonArray(new JsonObject
            {
                ["id"] = "modelperm-LwHkVFn8AcMItP432fKKDIKJ",
                ["object"] = "model_permission",
                ["created"] = MockJson.Number(1_626_777_600L, strings),
                ["allow_create_engine"] = true,
                ["allow_sampling"] = true,
                ["allow_logprobs"] = true,
                ["allow_search_indices"] = false,
                ["allow_view"] = true,
                ["allow_fine_tuning"] = false,
                ["organization"] = "*",
                ["group"] = null,
                ["is_blocking"] = false,
            }),
            ["root"] = m.Id,
            ["parent"] = null,
        })]),
    };

    /// <summary>AiHubMix's public rich list: comma-separated strings, prices as numbers (USD per million tokens).</summary>
    static JsonObject AiHubMixRich(IReadOnlyList<MockModel> models, string? type, bool strings, string padding) => new()
    {
        ["success"] = true,
        ["message"] = "",
        ["data"] = new JsonArray([.. models.Where(m => string.IsNullOrEmpty(type) || RichTypes(m).Split(',').Contains(type)).Select(m =>
        {
            var pricing = new JsonObject
            {
                ["input"] = MockJson.Number(m.InputPerMTok ?? 0m, strings),
                ["output"] = MockJson.Number(m.OutputPerMTok ?? 0m, strings),
            };
            if (m.Type == MockModelType.Chat) pricing["cache_read"] = MockJson.Number((m.InputPerMTok ?? 0m) / 10m, strings);
            return (JsonNode)new JsonObject
            {
                ["model_id"] = m.Id,
                ["developer_id"] = MockCatalogue.VendorNumber(m.Vendor),
                ["desc"] = m.Description + padding,
                ["types"] = RichTypes(m),
                ["features"] = string.Join(',', RichFeatures(m)),
                ["input_modalities"] = m.Vision ? "text,image" : "text",
                ["max_output"] = MockJson.Number(m.MaxOutput, strings),
                ["context_length"] = MockJson.Number(m.ContextLength, strings),
                ["pricing"] = pricing,
            };
        })]),
    };

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

    /// <summary>claude-* models, paged by limit (1–1000, default 20), after_id and before_id; null when the limit is invalid.</summary>
    static JsonObject? Anthropic(IReadOnlyList<MockModel> models, IQueryCollection query, bool strings)
    {
        var limit = 20;
        if (query.ContainsKey("limit") && (!int.TryParse(query["limit"], out limit) || limit is < 1 or > 1000)) return null;
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
        return new JsonObject
        {
            ["data"] = new JsonArray([.. page.Select(m => (JsonNode)new JsonObject
            {
                ["type"] = "model",
                ["id"] = m.Id,
                ["display_name"] = m.Name,
                ["created_at"] = DateTimeOffset.FromUnixTimeSeconds(m.Created).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                ["max_input_tokens"] = MockJson.Number(m.ContextLength, strings),
                ["max_tokens"] = MockJson.Number(m.MaxOutput, strings),
                ["capabilities"] = new JsonObject { ["image_input"] = new JsonObject { ["supported"] = m.Vision } },
            })]),
            ["has_more"] = hasMore,
            ["first_id"] = page.Count > 0 ? page[0].Id : null,
            ["last_id"] = page.Count > 0 ? page[^1].Id : null,
        };
    }
}
