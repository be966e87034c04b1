using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Aggregator.MockUpstream;
using OpenAI;
using OpenAI.Models;
using static Aggregator.MockUpstream.Tests.MockCalls;

namespace Aggregator.MockUpstream.Tests;

public class ModelListShapeTests
{
    [Fact]
    public async Task OpenAI_list_is_an_object_list_of_plain_model_items()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/models", null));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("list", (string?)json!["object"]);
        var data = json["data"]!.AsArray();
        Assert.Equal(378, data.Count);
        foreach (var item in data)
        {
            Assert.Equal(["id", "object", "created", "owned_by"], item!.AsObject().Select(p => p.Key));
            Assert.Equal("model", (string?)item["object"]);
            Assert.Equal(System.Text.Json.JsonValueKind.Number, item["created"]!.GetValueKind());
        }
        var ids = data.Select(m => (string)m!["id"]!).ToList();
        Assert.Contains("gpt-4o", ids);
        Assert.Contains("text-embedding-3-small", ids);
        Assert.Contains("dall-e-3", ids);
        Assert.Contains(ids, id => id.StartsWith("claude-"));
        Assert.Contains(ids, id => id.StartsWith("deepseek-"));
        Assert.Contains(ids, id => id.StartsWith("qwen"));
        Assert.Contains(ids, id => id.StartsWith("llama-"));
        Assert.Contains(ids, id => id.StartsWith("gemini-"));
    }

    [Fact]
    public async Task OpenAI_list_without_a_key_is_401_invalid_request_error()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/models", null, key: null));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_request_error", (string?)json!["error"]!["type"]);
        Assert.True(json["error"]!.AsObject().ContainsKey("param"));
        Assert.True(json["error"]!.AsObject().ContainsKey("code"));
    }

    [Fact]
    public async Task Official_OpenAI_client_lists_the_models()
    {
        await using var mock = await MockUpstreamServer.StartAsync(o => o.ModelCount = 50);
        var client = new OpenAIModelClient(new System.ClientModel.ApiKeyCredential(Key), new OpenAIClientOptions { Endpoint = new Uri(mock.OpenAIUrl) });

        var models = (await client.GetModelsAsync()).Value;

        Assert.Equal(50, models.Count);
        Assert.Contains(models, m => m.Id == "gpt-4o" && m.OwnedBy == "system");
        Assert.Equal($"Bearer {Key}", mock.State.Received.Single().Headers["Authorization"]);
    }

    [Fact]
    public async Task OpenRouter_list_has_per_token_price_strings_and_text_models_unless_asked_for_all()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(OpenAIRequest(mock.OpenRouterUrl + "/models", null, key: null));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(json!.AsObject().ContainsKey("object"));
        var data = json["data"]!.AsArray();
        Assert.All(data, m => Assert.Equal(["text"], m!["architecture"]!["output_modalities"]!.AsArray().Select(x => (string)x!)));
        var gpt4o = data.Single(m => (string?)m!["id"] == "openai/gpt-4o")!;
        Assert.Equal("OpenAI: GPT-4o", (string?)gpt4o["name"]);
        Assert.Equal(128_000, (int)gpt4o["context_length"]!);
        Assert.Equal("0.0000025", (string?)gpt4o["pricing"]!["prompt"]);
        Assert.Equal("0.00001", (string?)gpt4o["pricing"]!["completion"]);
        Assert.Equal(["text", "image"], gpt4o["architecture"]!["input_modalities"]!.AsArray().Select(x => (string)x!));
        Assert.Equal(16_384, (int)gpt4o["top_provider"]!["max_completion_tokens"]!);
        Assert.Contains("tools", gpt4o["supported_parameters"]!.AsArray().Select(x => (string)x!));
        var auto = data.Single(m => (string?)m!["id"] == "openrouter/auto")!;
        Assert.Equal("-1", (string?)auto["pricing"]!["prompt"]);
        Assert.All(data, m => Assert.True(decimal.TryParse((string?)m!["pricing"]!["prompt"], NumberStyles.Float, CultureInfo.InvariantCulture, out _)));

        var (_, all, _) = await SendAsync(OpenAIRequest(mock.OpenRouterUrl + "/models?output_modalities=all", null, key: null));
        var outputs = all!["data"]!.AsArray().Select(m => (string)m!["architecture"]!["output_modalities"]![0]!).ToHashSet();
        Assert.Equal(378, all["data"]!.AsArray().Count);
        Assert.Equal(new HashSet<string> { "text", "embeddings", "image" }, outputs);
    }

    [Fact]
    public async Task AiHubMix_legacy_list_is_one_api_items_without_top_level_object()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(OpenAIRequest(mock.AiHubMixUrl + "/models", null));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["data"], json!.AsObject().Select(p => p.Key));
        var first = json["data"]![0]!;
        Assert.Equal("model", (string?)first["object"]);
        Assert.Equal("model_permission", (string?)first["permission"]![0]!["object"]);
        Assert.Equal((string?)first["id"], (string?)first["root"]);
        Assert.True(first.AsObject().ContainsKey("parent"));
    }

    [Fact]
    public async Task AiHubMix_rich_list_uses_comma_separated_strings_and_filters_by_type()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(OpenAIRequest(mock.BaseUrl + "/aihubmix/api/v1/models", null, key: null));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((bool)json!["success"]!);
        var data = json["data"]!.AsArray();
        Assert.Equal(378, data.Count);
        var gpt5 = data.Single(m => (string?)m!["model_id"] == "gpt-5")!;
        Assert.Equal("llm", (string?)gpt5["types"]);
        Assert.Equal("thinking,tools,function_calling,structured_outputs", (string?)gpt5["features"]);
        Assert.Equal("text,image", (string?)gpt5["input_modalities"]);
        Assert.Equal(400_000, (int)gpt5["context_length"]!);
        Assert.Equal(128_000, (int)gpt5["max_output"]!);
        Assert.Equal(1.25m, (decimal)gpt5["pricing"]!["input"]!);
        Assert.Equal(10m, (decimal)gpt5["pricing"]!["output"]!);

        var (_, embeddings, _) = await SendAsync(OpenAIRequest(mock.BaseUrl + "/aihubmix/api/v1/models?type=embedding", null, key: null));
        Assert.NotEmpty(embeddings!["data"]!.AsArray());
        Assert.All(embeddings["data"]!.AsArray(), m => Assert.Equal("embedding", (string?)m!["types"]));
    }

    [Fact]
    public async Task Anthropic_list_pages_through_claude_models_only()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var seen = new List<string>();
        string? after = null;
        var pages = 0;
        while (true)
        {
            var url = mock.AnthropicUrl + "/models?limit=20" + (after is null ? "" : "&after_id=" + after);
            var (response, json, _) = await SendAsync(AnthropicRequest(url, null));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var data = json!["data"]!.AsArray();
            Assert.InRange(data.Count, 1, 20);
            Assert.Equal((string?)data[0]!["id"], (string?)json["first_id"]);
            Assert.Equal((string?)data[^1]!["id"], (string?)json["last_id"]);
            foreach (var m in data)
            {
                Assert.Equal("model", (string?)m!["type"]);
                Assert.StartsWith("claude-", (string)m["id"]!);
                Assert.False(string.IsNullOrEmpty((string?)m["display_name"]));
                Assert.True(DateTimeOffset.TryParse((string?)m["created_at"], CultureInfo.InvariantCulture, out _));
                Assert.True((int)m["max_input_tokens"]! > 0);
            }
            seen.AddRange(data.Select(m => (string)m!["id"]!));
            pages++;
            if (!(bool)json["has_more"]!) break;
            after = (string?)json["last_id"];
        }
        var expected = mock.State.Models.Where(m => m.IsClaude).Select(m => m.Id).ToList();
        Assert.Equal(expected, seen);
        Assert.Equal((expected.Count + 19) / 20, pages);

        var (_, before, _) = await SendAsync(AnthropicRequest(mock.AnthropicUrl + $"/models?limit=5&before_id={expected[7]}", null));
        Assert.Equal(expected[2..7], before!["data"]!.AsArray().Select(m => (string)m!["id"]!));
        Assert.True((bool)before["has_more"]!);
    }

    [Fact]
    public async Task Anthropic_list_without_x_api_key_is_authentication_error()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(AnthropicRequest(mock.AnthropicUrl + "/models", null, key: null));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("error", (string?)json!["type"]);
        Assert.Equal("authentication_error", (string?)json["error"]!["type"]);
        Assert.StartsWith("req_", (string?)json["request_id"]);
    }

    [Fact]
    public void Same_count_gives_the_same_catalogue_and_ids_stay_unique_up_to_20000()
    {
        var a = MockCatalogue.Build(378, 0, 5, 3, 4);
        var b = MockCatalogue.Build(378, 0, 5, 3, 4);
        Assert.Equal(a, b);

        var big = MockCatalogue.Build(20_000, 10, 5, 3, 4);
        Assert.Equal(20_000 + 10 * 2, big.Count);
        Assert.Equal(big.Count, big.Select(m => m.Id).Distinct().Count());
        Assert.Equal(big.Count, big.Select(m => m.OpenRouterId).Distinct().Count());
        Assert.Contains(big, m => m.Type == MockModelType.Embedding);
        Assert.Contains(big, m => m.Type == MockModelType.Image);
    }

    [Fact]
    public async Task Serves_more_than_20000_models_for_tests_of_the_product_cap()
    {
        await using var mock = await MockUpstreamServer.StartAsync(o => o.ModelCount = 20_001);
        var models = await ListAsync(mock);
        Assert.Equal(20_001, models.Count);
        Assert.Equal(20_001, models.Select(m => (string)m["id"]!).Distinct().Count());
    }

    [Fact]
    public async Task Each_mutation_adds_removes_and_changes_exact_counts()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var before = (await ListAsync(mock)).ToDictionary(m => (string)m["id"]!, m => m.ToJsonString());

        var (mutate, state, _) = await SendAsync(OpenAIRequest(mock.BaseUrl + "/_mock/mutate", new { }));
        Assert.Equal(HttpStatusCode.OK, mutate.StatusCode);
        Assert.Equal(1, (int)state!["generation"]!);
        var after = (await ListAsync(mock)).ToDictionary(m => (string)m["id"]!, m => m.ToJsonString());

        Assert.Equal(5, after.Keys.Except(before.Keys).Count());
        Assert.Equal(3, before.Keys.Except(after.Keys).Count());
        Assert.Equal(4, after.Count(kv => before.TryGetValue(kv.Key, out var old) && old != kv.Value));
        Assert.Equal(380, after.Count);

        mock.State.Mutate();
        Assert.Equal(382, (await ListAsync(mock)).Count);
        mock.State.SetModelCount(1000);
        mock.State.CatalogueGeneration = 0;
        Assert.Equal(1000, (await ListAsync(mock)).Count);
    }

    [Fact]
    public async Task Numbers_as_strings_and_leading_blank_lines_apply_to_lists()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (_, json, text) = await SendAsync(OpenAIRequest(mock.BaseUrl + "/aihubmix/api/v1/models", null, fault: "numbers_as_strings,leading_blank_lines"));

        Assert.StartsWith("\n", text);
        Assert.Equal(System.Text.Json.JsonValueKind.String, json!["data"]![0]!["context_length"]!.GetValueKind());
        Assert.Equal(System.Text.Json.JsonValueKind.String, json["data"]![0]!["pricing"]!["input"]!.GetValueKind());
    }

    static async Task<List<JsonObject>> ListAsync(MockUpstreamServer mock)
    {
        var (_, json, _) = await SendAsync(OpenAIRequest(mock.OpenRouterUrl + "/models?output_modalities=all", null));
        return [.. json!["data"]!.AsArray().Select(m => m!.AsObject())];
    }
}
