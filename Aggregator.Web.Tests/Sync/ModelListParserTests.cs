using System.Text.Json;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Sync;

namespace Aggregator.Web.Tests.Sync;

public sealed class ModelListParserTests
{
    static ModelListPage Parse(string json, ModelListShape shape = ModelListShape.Auto)
    {
        using var doc = JsonDocument.Parse(json);
        return ModelListParser.Parse(doc.RootElement, shape);
    }

    [Fact]
    public void OpenAI_shape_has_ids_only_so_everything_is_inferred_and_marked()
    {
        var page = Parse("""{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1686935002,"owned_by":"system"},{"id":"text-embedding-3-small","object":"model","created":1,"owned_by":"system"}]}""");
        Assert.Equal(ModelListShape.OpenAI, page.Shape);
        var chat = page.Models[0];
        Assert.Equal(ModelType.Chat, chat.Type);
        Assert.True(chat.TypeInferred);
        Assert.True(chat.Capabilities.HasFlag(ModelCapabilities.Vision));
        Assert.Equal(chat.Capabilities, chat.InferredCapabilities);
        Assert.Null(chat.ContextWindow);
        Assert.Equal(ModelType.Embedding, page.Models[1].Type);
    }

    [Fact]
    public void OpenRouter_metadata_wins_over_inference_and_prices_become_per_million()
    {
        var page = Parse("""
        {"data":[{"id":"openai/gpt-4","canonical_slug":"openai/gpt-4","name":"GPT-4","created":1692901234,"description":"d","context_length":8192,
          "architecture":{"modality":"text+image->text","input_modalities":["text","image"],"output_modalities":["text"],"tokenizer":"GPT","instruct_type":null},
          "pricing":{"prompt":"0.00003","completion":"0.00006","request":"0","image":"0","internal_reasoning":"0"},
          "top_provider":{"context_length":8192,"max_completion_tokens":4096,"is_moderated":true},
          "per_request_limits":null,"supported_parameters":["tools","tool_choice","reasoning","temperature","max_tokens","response_format"]},
         {"id":"openrouter/auto","name":"Auto Router","context_length":"2000000","architecture":{"input_modalities":["text"],"output_modalities":["text"]},
          "pricing":{"prompt":"-1","completion":"-1"},"supported_parameters":[]}]}
        """);
        Assert.Equal(ModelListShape.OpenRouter, page.Shape);
        var gpt4 = page.Models[0];
        Assert.Equal("GPT-4", gpt4.UpstreamName);
        Assert.False(gpt4.TypeInferred);
        Assert.Equal(ModelCapabilities.Vision | ModelCapabilities.Tools | ModelCapabilities.Reasoning | ModelCapabilities.JsonOutput, gpt4.Capabilities);
        Assert.Equal(ModelCapabilities.None, gpt4.InferredCapabilities);
        Assert.Equal(8192, gpt4.ContextWindow);
        Assert.Equal(4096, gpt4.MaxOutputTokens);
        Assert.Equal(30m, gpt4.InputPricePerMTok);
        Assert.Equal(60m, gpt4.OutputPricePerMTok);
        var auto = page.Models[1];
        Assert.Null(auto.InputPricePerMTok); // "-1" means unknown, never a price
        Assert.Equal(2_000_000, auto.ContextWindow); // number sent as a string
        Assert.Equal(ModelCapabilities.None, auto.Capabilities);
    }

    [Fact]
    public void AiHubMix_rich_shape_reads_comma_separated_fields()
    {
        var page = Parse("""
        {"success":true,"message":"","data":[{"model_id":"gpt-5","developer_id":1,"desc":"...","types":"llm","features":"thinking,tools,function_calling,structured_outputs","input_modalities":"text,image",
         "max_output":128000,"context_length":"400000","pricing":{"input":1.25,"output":"10","cache_read":0.125}},
         {"model_id":"flux-pro","types":"image_generation","features":"","input_modalities":"text","pricing":{}}]}
        """);
        Assert.Equal(ModelListShape.AiHubMix, page.Shape);
        var gpt5 = page.Models[0];
        Assert.Equal(ModelType.Chat, gpt5.Type);
        Assert.Equal(ModelCapabilities.Vision | ModelCapabilities.Tools | ModelCapabilities.Reasoning | ModelCapabilities.JsonOutput, gpt5.Capabilities);
        Assert.Equal(ModelCapabilities.None, gpt5.InferredCapabilities);
        Assert.Equal(400_000, gpt5.ContextWindow);
        Assert.Equal(128_000, gpt5.MaxOutputTokens);
        Assert.Equal(1.25m, gpt5.InputPricePerMTok);
        Assert.Equal(10m, gpt5.OutputPricePerMTok);
        Assert.Equal(ModelType.Image, page.Models[1].Type);
    }

    [Fact]
    public void AiHubMix_price_unit_is_configurable()
    {
        using var doc = JsonDocument.Parse("""{"success":true,"data":[{"model_id":"m","types":"llm","pricing":{"input":0.5,"output":1}}]}""");
        var perThousand = ModelListParser.Parse(doc.RootElement, ModelListShape.Auto, aiHubMixPriceTokens: 1000m);
        Assert.Equal(500m, perThousand.Models[0].InputPricePerMTok);
    }

    [Fact]
    public void Anthropic_shape_reads_limits_and_paging()
    {
        var page = Parse("""
        {"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z",
          "max_input_tokens":200000,"max_tokens":64000,"capabilities":{"image_input":{"supported":true}}}],
         "first_id":"claude-sonnet-4-5","last_id":"claude-sonnet-4-5","has_more":true}
        """);
        Assert.Equal(ModelListShape.Anthropic, page.Shape);
        Assert.True(page.HasMore);
        Assert.Equal("claude-sonnet-4-5", page.LastId);
        var m = page.Models[0];
        Assert.Equal("Claude Sonnet 4.5", m.DisplayName);
        Assert.Equal(200_000, m.ContextWindow);
        Assert.Equal(64_000, m.MaxOutputTokens);
        Assert.True(m.Capabilities.HasFlag(ModelCapabilities.Vision));
        Assert.False(m.InferredCapabilities.HasFlag(ModelCapabilities.Vision));
    }

    [Theory]
    [InlineData("""{"models":[]}""")]
    [InlineData("""[1,2,3]""")]
    [InlineData("""{"data":[{"name":"no id"}]}""")]
    [InlineData("""{"error":{"message":"bad key","type":"invalid_request_error"}}""")]
    public void Unknown_shapes_fail_with_a_readable_error(string json)
    {
        var ex = Assert.Throws<ModelListException>(() => Parse(json));
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
    }

    [Fact]
    public void Odd_ids_are_kept_invisible_characters_stripped_and_unusable_ones_skipped()
    {
        var page = Parse("""{"data":[{"id":"vendor/model:free@v1 (beta) 模型"},{"id":""},{"id":"bad\u0001id"},{"id":"\u200B\u202E"}]}""");
        Assert.Equal(["vendor/model:free@v1 (beta) 模型", "badid"], page.Models.Select(m => m.ModelId));
        Assert.Equal(2, page.Skipped);
    }

    [Fact]
    public void Names_lose_direction_overrides_and_zero_width_characters()
    {
        var page = Parse("""{"data":[{"id":"gpt\u200B-4o","name":"GPT\u202E-4o\u2066 mini\uFEFF","architecture":{}}]}""");
        Assert.Equal("gpt-4o", page.Models[0].ModelId);
        Assert.Equal("GPT-4o mini", page.Models[0].UpstreamName);
    }

    [Theory]
    [InlineData("o3-mini", ModelCapabilities.Reasoning)]
    [InlineData("openai/o1", ModelCapabilities.Reasoning)]
    [InlineData("deepseek-reasoner", ModelCapabilities.Reasoning)]
    [InlineData("gpt-4o", ModelCapabilities.Vision | ModelCapabilities.Tools)]
    [InlineData("yolo1", ModelCapabilities.None)]
    public void Inference_rules_only_guess_from_the_id(string id, ModelCapabilities expected) =>
        Assert.Equal(expected, ModelInference.InferCapabilities(id, ModelInference.InferType(id)));

    [Fact]
    public void Content_hash_changes_with_metadata_and_not_otherwise()
    {
        var a = new UpstreamModel("m", "M", null, ModelType.Chat, false, ModelCapabilities.Tools, 0, 8192, null, 1m, 2m);
        Assert.Equal(a.ContentHash(), (a with { }).ContentHash());
        Assert.NotEqual(a.ContentHash(), (a with { ContextWindow = 16384 }).ContentHash());
        Assert.NotEqual(a.ContentHash(), (a with { OutputPricePerMTok = 3m }).ContentHash());
    }
}
