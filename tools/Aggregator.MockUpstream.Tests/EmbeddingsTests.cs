using System.ClientModel;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Aggregator.MockUpstream;
using OpenAI;
using OpenAI.Embeddings;
using static Aggregator.MockUpstream.Tests.MockCalls;

namespace Aggregator.MockUpstream.Tests;

public class EmbeddingsTests
{
    static float[] Floats(JsonNode? embedding) => [.. embedding!.AsArray().Select(x => (float)x!)];

    static double Length(IEnumerable<float> vector) => Math.Sqrt(vector.Sum(x => (double)x * x));

    [Fact]
    public async Task A_string_input_gets_one_unit_vector_in_the_OpenAI_list_shape()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/embeddings",
            new { model = "text-embedding-3-small", input = "The quick brown fox" }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("list", (string?)json!["object"]);
        Assert.Equal("text-embedding-3-small", (string?)json["model"]);
        var item = json["data"]!.AsArray().Single()!;
        Assert.Equal("embedding", (string?)item["object"]);
        Assert.Equal(0, (int)item["index"]!);
        var vector = Floats(item["embedding"]);
        Assert.Equal(1536, vector.Length);
        Assert.Equal(1.0, Length(vector), 3);
        Assert.Equal(5, (int)json["usage"]!["prompt_tokens"]!);
        Assert.Equal(5, (int)json["usage"]!["total_tokens"]!);
    }

    [Fact]
    public async Task The_same_text_always_gives_the_same_vector_and_a_batch_keeps_its_order()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        await using var other = await MockUpstreamServer.StartAsync();
        var (_, batch, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/embeddings",
            new { model = "text-embedding-3-small", input = new[] { "alpha", "beta", "alpha" } }));
        var (_, single, _) = await SendAsync(OpenAIRequest(other.OpenAIUrl + "/embeddings",
            new { model = "text-embedding-3-small", input = "beta" }));

        var data = batch!["data"]!.AsArray();
        Assert.Equal([0, 1, 2], data.Select(d => (int)d!["index"]!));
        Assert.Equal(Floats(data[0]!["embedding"]), Floats(data[2]!["embedding"]));
        Assert.NotEqual(Floats(data[0]!["embedding"]), Floats(data[1]!["embedding"]));
        Assert.Equal(Floats(single!["data"]![0]!["embedding"]), Floats(data[1]!["embedding"]));
        Assert.Equal(2 + 1 + 2, (int)batch["usage"]!["prompt_tokens"]!);
    }

    [Fact]
    public async Task Token_arrays_dimensions_and_base64_are_accepted()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (_, tokens, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/embeddings",
            new { model = "text-embedding-3-large", input = new[] { new[] { 1, 2, 3 }, new[] { 4, 5 } } }));
        Assert.Equal(2, tokens!["data"]!.AsArray().Count);
        Assert.Equal(3072, tokens["data"]![0]!["embedding"]!.AsArray().Count);
        Assert.Equal(5, (int)tokens["usage"]!["prompt_tokens"]!);

        var (_, asFloats, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/embeddings",
            new { model = "text-embedding-3-small", input = "shorter", dimensions = 256 }));
        var (_, asBase64, _) = await SendAsync(OpenAIRequest(mock.AiHubMixUrl + "/embeddings",
            new { model = "text-embedding-3-small", input = "shorter", dimensions = 256, encoding_format = "base64" }));
        var floats = Floats(asFloats!["data"]![0]!["embedding"]);
        var decoded = MemoryMarshal.Cast<byte, float>(Convert.FromBase64String((string)asBase64!["data"]![0]!["embedding"]!)).ToArray();
        Assert.Equal(256, floats.Length);
        Assert.Equal(1.0, Length(floats), 3);
        Assert.Equal(floats, decoded);
    }

    [Theory]
    [InlineData("""{"model":"text-embedding-3-small"}""", "'input' is a required property")]
    [InlineData("""{"model":"text-embedding-3-small","input":""}""", "'$.input' is invalid")]
    [InlineData("""{"model":"text-embedding-3-small","input":[]}""", "'$.input' is invalid")]
    [InlineData("""{"model":"text-embedding-3-small","input":{"text":"x"}}""", "'$.input' is invalid")]
    [InlineData("""{"model":"text-embedding-3-small","input":["ok",7.5]}""", "'$.input' is invalid")]
    [InlineData("""{"model":"text-embedding-3-small","input":"x","encoding_format":"int8"}""", "'$.encoding_format' is invalid")]
    [InlineData("""{"model":"text-embedding-3-small","input":"x","dimensions":0}""", "Invalid value for 'dimensions'")]
    [InlineData("""{"model":"text-embedding-3-small","input":"x","dimensions":4096}""", "Invalid value for 'dimensions'")]
    [InlineData("""{"model":"text-embedding-ada-002","input":"x","dimensions":256}""", "does not support specifying dimensions")]
    [InlineData("""{"model":"gpt-4o","input":"x"}""", "not allowed to generate embeddings")]
    [InlineData("""{"input":"x"}""", "you must provide a model parameter")]
    [InlineData("""{"model":"text-embedding-3-small","input":""" , "We could not parse the JSON body")]
    public async Task Bad_input_gets_a_400_in_the_OpenAI_error_shape(string body, string message)
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/embeddings", null, rawBody: body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", (string?)json!["error"]!["type"]);
        Assert.Contains(message, (string?)json["error"]!["message"]);
    }

    [Fact]
    public async Task Unknown_model_missing_key_and_faults_are_handled_as_for_chat()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var url = mock.OpenAIUrl + "/embeddings";
        var body = new { model = "text-embedding-3-small", input = "x" };

        var (unknown, unknownJson, _) = await SendAsync(OpenAIRequest(url, new { model = "no-such-embedder", input = "x" }));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("model_not_found", (string?)unknownJson!["error"]!["code"]);

        var (noKey, _, _) = await SendAsync(OpenAIRequest(url, body, key: null));
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);

        var (limited, _, _) = await SendAsync(OpenAIRequest(url, body, fault: "429:7"));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("7", limited.Headers.GetValues("Retry-After").Single());

        mock.State.SetKeyFault(Key, "503");
        var (down, _, _) = await SendAsync(OpenAIRequest(url, body));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);

        // OpenRouter ids are vendor/model, and its errors carry the status as a number.
        mock.State.ClearKeyFault(Key);
        var (routed, _, _) = await SendAsync(OpenAIRequest(mock.OpenRouterUrl + "/embeddings", new { model = "openai/text-embedding-3-small", input = "x" }));
        Assert.Equal(HttpStatusCode.OK, routed.StatusCode);
        var (routedBad, routedJson, _) = await SendAsync(OpenAIRequest(mock.OpenRouterUrl + "/embeddings", new { model = "openai/text-embedding-3-small" }));
        Assert.Equal(HttpStatusCode.BadRequest, routedBad.StatusCode);
        Assert.Equal(400, (int)routedJson!["error"]!["code"]!);
        Assert.Equal(6, mock.State.Received.Count(r => r.Path.EndsWith("/embeddings", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Official_OpenAI_client_reads_embeddings_single_and_batched()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var client = new EmbeddingClient("text-embedding-3-small", new ApiKeyCredential(Key), new OpenAIClientOptions { Endpoint = new Uri(mock.OpenAIUrl) });

        OpenAIEmbedding one = await client.GenerateEmbeddingAsync("hello", new EmbeddingGenerationOptions { Dimensions = 512 });
        OpenAIEmbeddingCollection many = await client.GenerateEmbeddingsAsync(["hello", "world"], new EmbeddingGenerationOptions { Dimensions = 512 });

        Assert.Equal(512, one.ToFloats().Length);
        Assert.Equal(1.0, Length(one.ToFloats().ToArray()), 3);
        Assert.Equal(2, many.Count);
        Assert.Equal(one.ToFloats().ToArray(), many[0].ToFloats().ToArray());
        Assert.NotEqual(many[0].ToFloats().ToArray(), many[1].ToFloats().ToArray());
        Assert.True(many.Usage.InputTokenCount > 0);
    }
}
