using System.Text;
using System.Text.Json.Nodes;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Protocols;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Tests.Router;

/// <summary>What each adapter sends: OpenAI forwards unknown fields, Anthropic hoists system and requires max_tokens.</summary>
public class RequestBuildingTests
{
    static readonly ModelRoute Model = new(1, 1, "some-model", "Some Model", Tier.Free, true, null, null, null);
    static readonly ProviderRoute Provider = new(1, "p", "P", ApiStandard.OpenAI, "http://upstream.test/v1", null, true, false);
    static readonly KeyLease Key = new(7, 1, "sk-test-secret-123456");
    static readonly ProviderClients Clients = new(Microsoft.Extensions.Options.Options.Create(new RouterOptions()));

    static JsonObject Body(ProtocolAdapter adapter, ChatRequest request) =>
        JsonNode.Parse(Encoding.UTF8.GetString(adapter.BuildBody(Model, request).Span))!.AsObject();

    static ChatRequest Request(JsonObject? extra = null, int? maxTokens = null) => new("u1", Tier.Free, 1,
        [new(MessageRole.System, "Be brief."), new(MessageRole.User, "Hello"), new(MessageRole.Assistant, "Hi"), new(MessageRole.User, "More"), new(MessageRole.User, "Please")],
        MaxTokens: maxTokens, Extra: extra);

    [Fact]
    public void OpenAI_forwards_unknown_fields_untouched_and_asks_for_usage()
    {
        var extra = new JsonObject
        {
            ["response_format"] = new JsonObject { ["type"] = "json_object" },
            ["seed"] = 42,
            ["logit_bias"] = new JsonObject { ["50256"] = -100 },
            ["stream_options"] = new JsonObject { ["include_obfuscation"] = false },
            ["stream"] = false,
            ["model"] = "other",
        };
        var body = Body(OpenAIAdapter.Instance, Request(extra, maxTokens: 50));
        Assert.Equal("some-model", (string?)body["model"]);
        Assert.True((bool)body["stream"]!);
        Assert.True((bool)body["stream_options"]!["include_usage"]!);
        Assert.False((bool)body["stream_options"]!["include_obfuscation"]!);
        Assert.Equal("json_object", (string?)body["response_format"]!["type"]);
        Assert.Equal(42, (int)body["seed"]!);
        Assert.Equal(-100, (int)body["logit_bias"]!["50256"]!);
        Assert.Equal(50, (int)body["max_tokens"]!);
        Assert.Equal(5, body["messages"]!.AsArray().Count);
        Assert.Equal("system", (string?)body["messages"]![0]!["role"]);
    }

    [Fact]
    public void OpenAI_request_carries_the_bearer_key_and_accepts_sse()
    {
        using var message = Clients.OpenAI.ChatRequest(Provider, OpenAIAdapter.Instance.BuildBody(Model, Request()), Key);
        Assert.Equal("http://upstream.test/v1/chat/completions", message.RequestUri!.ToString());
        Assert.Equal("Bearer sk-test-secret-123456", message.Headers.GetValues("Authorization").Single());
        Assert.Contains("text/event-stream", message.Headers.Accept.ToString());
        Assert.Equal("application/json", message.Content!.Headers.ContentType!.MediaType);
    }

    [Fact]
    public void Anthropic_hoists_system_merges_turns_and_defaults_max_tokens()
    {
        var adapter = new AnthropicAdapter(4096);
        var body = Body(adapter, Request(new JsonObject { ["logit_bias"] = new JsonObject() }) with { Stop = ["END"], TopP = 0.5 });
        Assert.Equal("Be brief.", (string?)body["system"]);
        Assert.Equal(4096, (int)body["max_tokens"]!);
        var messages = body["messages"]!.AsArray();
        Assert.Equal(["user", "assistant", "user"], messages.Select(m => (string)m!["role"]!));
        Assert.Equal("More\n\nPlease", (string?)messages[2]!["content"]);
        Assert.Equal("END", (string?)body["stop_sequences"]![0]);
        Assert.Equal(0.5, (double)body["top_p"]!);
        Assert.Null(body["logit_bias"]);
        Assert.True((bool)body["stream"]!);
    }

    [Fact]
    public void Anthropic_request_uses_x_api_key_and_version_header()
    {
        var client = Clients.Anthropic;
        var provider = Provider with { Standard = ApiStandard.Anthropic, BaseUrl = "http://upstream.test/anthropic/v1/" };
        using var message = client.ChatRequest(provider, client.Protocol.BuildBody(Model, Request(maxTokens: 10)), Key);
        Assert.Equal("http://upstream.test/anthropic/v1/messages", message.RequestUri!.ToString());
        Assert.Equal("sk-test-secret-123456", message.Headers.GetValues("x-api-key").Single());
        Assert.Equal("2023-06-01", message.Headers.GetValues("anthropic-version").Single());
        Assert.False(message.Headers.Contains("Authorization"));
    }
}
