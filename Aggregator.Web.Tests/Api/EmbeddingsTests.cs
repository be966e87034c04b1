using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Embeddings;

namespace Aggregator.Web.Tests.Api;

/// <summary>
/// The API test app plus embedding models: text-embedding-3-small (free) and -large (pro) on "mock";
/// text-embedding-3-small on "flaky" (a key the upstream rejects, then a good one) and on "broken" (one key,
/// failing with its secret in the error text); an embedding row on an Anthropic-standard provider.
/// </summary>
public sealed class EmbeddingsTestApp : ApiTestApp
{
    readonly Lazy<Task> _seeded;

    public EmbeddingsTestApp() => _seeded = new(SeedAsync);

    /// <summary>Seeds the embedding rows once, after the base fixture's own seeding.</summary>
    public Task ReadyAsync() => _seeded.Value;

    public string FlakyBadSecret { get; } = $"sk-flaky-bad-{Guid.NewGuid():N}";
    public string BrokenSecret { get; private set; } = "";
    public string EchoSecret { get; private set; } = "";
    public long FlakyGoodKeyId { get; private set; }
    public int FlakyProviderId { get; private set; }
    public long SmallModelId { get; private set; }

    async Task SeedAsync()
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var secrets = scope.ServiceProvider.GetRequiredService<SecretBox>();
        var mock = await db.Providers.SingleAsync(p => p.Name == "mock");
        SmallModelId = (await EmbeddingAsync(db, mock, "text-embedding-3-small", Tier.Free)).Id;
        await EmbeddingAsync(db, mock, "text-embedding-3-large", Tier.Pro);

        // Key order is least recently used first: the bad key, added first, is tried first.
        var flaky = await SeedProviderAsync(db, secrets, "flaky", "Flaky AI", Mock.OpenAIUrl, withKey: false);
        AddKey(db, secrets, flaky, FlakyBadSecret);
        await db.SaveChangesAsync();
        var good = AddKey(db, secrets, flaky, $"sk-flaky-good-{Guid.NewGuid():N}");
        await db.SaveChangesAsync();
        FlakyGoodKeyId = good.Entity.Id;
        FlakyProviderId = flaky.Id;
        await EmbeddingAsync(db, flaky, "text-embedding-3-small", Tier.Free);
        Mock.State.SetKeyFault(FlakyBadSecret, "401,echo_key");

        var broken = await SeedProviderAsync(db, secrets, "broken", "Broken AI", Mock.OpenAIUrl, withKey: false);
        BrokenSecret = $"sk-broken-{Guid.NewGuid():N}";
        AddKey(db, secrets, broken, BrokenSecret);
        await db.SaveChangesAsync();
        await EmbeddingAsync(db, broken, "text-embedding-3-small", Tier.Free);
        Mock.State.SetKeyFault(BrokenSecret, "500,echo_key");

        // A hostile gateway that answers, but puts the key it received into its successful reply.
        var echo = await SeedProviderAsync(db, secrets, "echo", "Echo AI", Mock.OpenAIUrl, withKey: false);
        EchoSecret = $"sk-echo-{Guid.NewGuid():N}";
        AddKey(db, secrets, echo, EchoSecret);
        await db.SaveChangesAsync();
        await EmbeddingAsync(db, echo, "text-embedding-3-small", Tier.Free);
        Mock.State.SetKeyFault(EchoSecret, "echo_key");

        var claude = await SeedProviderAsync(db, secrets, "claude", "Claude", Mock.AnthropicUrl);
        claude.ApiStandard = ApiStandard.Anthropic;
        await db.SaveChangesAsync();
        await EmbeddingAsync(db, claude, "voyage-3", Tier.Free);

        await scope.ServiceProvider.GetRequiredService<RoutingTable>().ReloadAsync();
        await scope.ServiceProvider.GetRequiredService<CatalogCache>().InvalidateAsync();
    }

    static async Task<AiModel> EmbeddingAsync(AppDbContext db, Provider provider, string id, Tier tier)
    {
        var model = await AddModelAsync(db, provider, id, id, tier, type: ModelType.Embedding);
        model.InputPricePerMTok = 0.02m;
        model.OutputPricePerMTok = 0m;
        await db.SaveChangesAsync();
        return model;
    }

    static Microsoft.EntityFrameworkCore.ChangeTracking.EntityEntry<ApiKey> AddKey(AppDbContext db, SecretBox secrets, Provider provider, string secret) =>
        db.ApiKeys.Add(new ApiKey
        {
            ProviderId = provider.Id, Name = "key " + secret[..12], EncryptedSecret = secrets.Encrypt(secret),
            SecretFingerprint = secrets.Fingerprint(secret), MaskedHint = SecretBox.Mask(secret),
        });

    public static StringContent Embed(string model, string inputJson, string extra = "") =>
        Json($$"""{"model":{{JsonSerializer.Serialize(model)}},"input":{{inputJson}}{{extra}}}""");
}

/// <summary><c>POST /v1/embeddings</c> through the official OpenAI client and raw HTTP: relay, failover, refusals, usage.</summary>
public sealed class EmbeddingsTests(EmbeddingsTestApp app) : IClassFixture<EmbeddingsTestApp>
{
    [Fact]
    public async Task The_official_client_gets_the_upstreams_vectors_and_the_usage_is_recorded_against_user_and_key()
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        var (secret, _) = await app.TokenAsync(user);
        var client = app.OpenAI(secret).GetEmbeddingClient("mock/text-embedding-3-small");

        OpenAIEmbeddingCollection result = await client.GenerateEmbeddingsAsync(["first text", "second, longer text"],
            new EmbeddingGenerationOptions { Dimensions = 64 });

        Assert.Equal("mock/text-embedding-3-small", result.Model);
        Assert.Equal(2, result.Count);
        Assert.Equal(64, result[0].ToFloats().Length);
        var direct = await DirectAsync("""{"model":"text-embedding-3-small","input":["first text","second, longer text"],"dimensions":64}""");
        Assert.Equal(direct, result.Select(e => e.ToFloats().ToArray()).ToList());
        Assert.True(result.Usage.InputTokenCount > 0);

        var sent = app.Mock.State.Received.Last(r => r.Path.EndsWith("/embeddings") && r.Body.Contains("second, longer text"));
        using (var upstream = JsonDocument.Parse(sent.Body))
        {
            Assert.Equal("text-embedding-3-small", upstream.RootElement.GetProperty("model").GetString());
            Assert.Equal(64, upstream.RootElement.GetProperty("dimensions").GetInt32());
        }

        var row = Assert.Single(await Eventually.Rows(app, user.UserId));
        Assert.Equal("api", row.Source);
        Assert.Equal(app.SmallModelId, row.ModelId);
        Assert.Equal(result.Usage.InputTokenCount, row.PromptTokens);
        Assert.Equal(0, row.CompletionTokens);
        Assert.False(row.Estimated);
        Assert.NotNull(row.ApiKeyId);
        Assert.True(row.CostUsd > 0, "priced");
    }

    [Fact]
    public async Task Base64_vectors_are_relayed_untouched()
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        var api = app.Api((await app.TokenAsync(user)).Secret);
        const string body = """{"model":"text-embedding-3-small","input":"as bytes","encoding_format":"base64"}""";
        var response = await api.PostAsync("/v1/embeddings", ApiTestApp.Json(body.Replace("\"text-", "\"mock/text-")));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var relayed = doc.RootElement.GetProperty("data")[0].GetProperty("embedding").GetString();
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk-direct");
        using var direct = JsonDocument.Parse(await (await http.PostAsync(app.Mock.OpenAIUrl + "/embeddings", ApiTestApp.Json(body))).Content.ReadAsStringAsync());
        Assert.Equal(direct.RootElement.GetProperty("data")[0].GetProperty("embedding").GetString(), relayed);
    }

    [Fact]
    public async Task Float_vectors_and_token_arrays_are_relayed_and_the_model_id_is_ours()
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        var api = app.Api((await app.TokenAsync(user)).Secret);
        var response = await api.PostAsync("/v1/embeddings", EmbeddingsTestApp.Embed("mock/text-embedding-3-small", "[[1,2,3],[4,5]]", ""","user":"u-1","encoding_format":"float" """));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(text);
        Assert.Equal("list", doc.RootElement.GetProperty("object").GetString());
        Assert.Equal("mock/text-embedding-3-small", doc.RootElement.GetProperty("model").GetString());
        var data = doc.RootElement.GetProperty("data");
        Assert.Equal(2, data.GetArrayLength());
        Assert.Equal(1536, data[1].GetProperty("embedding").GetArrayLength());
        Assert.Equal(5, doc.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        var sent = app.Mock.State.Received.Last(r => r.Path.EndsWith("/embeddings") && r.Body.Contains("u-1"));
        Assert.Contains("\"user\":\"u-1\"", sent.Body); // unknown-to-us fields pass through
    }

    [Fact]
    public async Task A_key_the_provider_rejects_fails_over_to_the_next_and_is_taken_out_of_rotation()
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        var client = app.OpenAI((await app.TokenAsync(user)).Secret).GetEmbeddingClient("flaky/text-embedding-3-small");

        OpenAIEmbedding embedding = await client.GenerateEmbeddingAsync("fail me over");

        Assert.Equal(1536, embedding.ToFloats().Length);
        Assert.Contains(app.Mock.State.Received, r => r.Path.EndsWith("/embeddings") && r.ApiKey == app.FlakyBadSecret);
        var pool = app.Services.GetRequiredService<IApiKeyPool>();
        var bad = Assert.Single(pool.Describe(), k => k.ProviderId == app.FlakyProviderId && k.KeyId != app.FlakyGoodKeyId);
        Assert.True(!bad.Active || bad.CooldownUntil > DateTime.UtcNow, "the rejected key is out of rotation");
        var row = Assert.Single(await Eventually.Rows(app, user.UserId));
        Assert.Equal(app.FlakyGoodKeyId, row.ApiKeyId);
    }

    [Fact]
    public async Task Every_key_failing_is_a_502_in_openai_shape_without_the_key_and_nothing_recorded()
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        var api = app.Api((await app.TokenAsync(user)).Secret);
        var response = await api.PostAsync("/v1/embeddings", EmbeddingsTestApp.Embed("broken/text-embedding-3-small", "\"hello\""));
        var error = await response.ErrorAsync(502);
        Assert.Equal("upstream_error", error.GetProperty("type").GetString());
        Assert.DoesNotContain(app.BrokenSecret, error.GetRawText());
        Assert.DoesNotContain(app.BrokenSecret[8..], error.GetRawText());
        Assert.Contains(app.Mock.State.Received, r => r.Path.EndsWith("/embeddings") && r.ApiKey == app.BrokenSecret);
        await app.Services.GetRequiredService<Aggregator.Web.Upstream.Usage.UsageRecorder>().FlushAsync();
        Assert.Empty(await app.QueryAsync(db => db.Usage.Where(u => u.UserId == user.UserId).ToListAsync()));
    }

    [Fact]
    public async Task A_successful_reply_that_carries_the_key_is_refused_not_relayed()
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        var api = app.Api((await app.TokenAsync(user)).Secret);
        var response = await api.PostAsync("/v1/embeddings", EmbeddingsTestApp.Embed("echo/text-embedding-3-small", "\"hello\""));
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(app.EchoSecret, body);
        Assert.Contains(app.Mock.State.Received, r => r.Path.EndsWith("/embeddings") && r.ApiKey == app.EchoSecret);
        var error = await response.ErrorAsync(502);
        Assert.Contains("carries the API key", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("""{"input":"hi"}""", "model", "missing_required_parameter")]
    [InlineData("""{"model":"mock/text-embedding-3-small"}""", "input", "missing_required_parameter")]
    [InlineData("""{"model":"mock/text-embedding-3-small","input":""}""", "input", "invalid_value")]
    [InlineData("""{"model":"mock/text-embedding-3-small","input":[]}""", "input", "invalid_value")]
    [InlineData("""{"model":"mock/text-embedding-3-small","input":42}""", "input", "invalid_type")]
    [InlineData("""{"model":"mock/text-embedding-3-small","input":["ok",{"a":1}]}""", "input[1]", "invalid_type")]
    [InlineData("""{"model":"mock/text-embedding-3-small","input":"hi","encoding_format":"int8"}""", "encoding_format", "invalid_value")]
    [InlineData("""{"model":"mock/text-embedding-3-small","input":"hi","dimensions":0}""", "dimensions", "invalid_value")]
    [InlineData("""{"model":"mock/text-embedding-3-small","input":"hi","user":7}""", "user", "invalid_type")]
    [InlineData("""{"model":"mock/gpt-4o-mini","input":"hi"}""", "model", "model_not_supported")]
    [InlineData("""{"model":"claude/voyage-3","input":"hi"}""", "model", "model_not_supported")]
    [InlineData("{nope", null, "invalid_json")]
    public async Task Bad_input_is_a_400_naming_the_field_and_never_reaches_the_upstream(string body, string? param, string code)
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        var api = app.Api((await app.TokenAsync(user)).Secret);
        var before = app.Mock.State.Received.Count(r => r.Path.EndsWith("/embeddings"));
        var error = await (await api.PostAsync("/v1/embeddings", ApiTestApp.Json(body))).ErrorAsync(400);
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(before, app.Mock.State.Received.Count(r => r.Path.EndsWith("/embeddings")));
    }

    [Fact]
    public async Task An_embedding_model_asked_for_a_chat_completion_is_a_400_and_listed_models_include_embeddings()
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        var api = app.Api((await app.TokenAsync(user)).Secret);
        var error = await (await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/text-embedding-3-small", "hi"))).ErrorAsync(400);
        Assert.Contains("/v1/embeddings", error.GetProperty("message").GetString());
        var ids = (await app.OpenAI((await app.TokenAsync(user)).Secret).GetOpenAIModelClient().GetModelsAsync()).Value.Select(m => m.Id).ToList();
        Assert.Contains("mock/text-embedding-3-small", ids);
        Assert.DoesNotContain("mock/text-embedding-3-large", ids); // pro
    }

    [Fact]
    public async Task Tier_and_allow_list_gate_embedding_models_like_chat_ones()
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        var limited = app.Api((await app.TokenAsync(user, allowed: "mock/gpt-*")).Secret);
        await (await limited.PostAsync("/v1/embeddings", EmbeddingsTestApp.Embed("mock/text-embedding-3-small", "\"hi\""))).ErrorAsync(403);
        var free = app.Api((await app.TokenAsync(user)).Secret);
        var locked = await (await free.PostAsync("/v1/embeddings", EmbeddingsTestApp.Embed("mock/text-embedding-3-large", "\"hi\""))).ErrorAsync(403);
        Assert.Contains("pro tier", locked.GetProperty("message").GetString());
        await (await free.PostAsync("/v1/embeddings", EmbeddingsTestApp.Embed("mock/no-such-embedder", "\"hi\""))).ErrorAsync(404);
        await (await app.Api(null).PostAsync("/v1/embeddings", EmbeddingsTestApp.Embed("mock/text-embedding-3-small", "\"hi\""))).ErrorAsync(401);
    }

    [Fact]
    public async Task The_official_client_sees_an_openai_error_for_a_refused_request()
    {
        await app.ReadyAsync();
        var user = await app.UserAsync();
        var client = app.OpenAI((await app.TokenAsync(user)).Secret).GetEmbeddingClient("mock/gpt-4o-mini");
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => client.GenerateEmbeddingAsync("hi"));
        Assert.Equal(400, ex.Status);
        Assert.Contains("not an embedding model", ex.Message);
    }

    async Task<List<float[]>> DirectAsync(string body)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk-direct");
        var response = await http.PostAsync(app.Mock.OpenAIUrl + "/embeddings", ApiTestApp.Json(body));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("data").EnumerateArray()
            .Select(d => d.GetProperty("embedding").EnumerateArray().Select(x => x.GetSingle()).ToArray()).ToList();
    }

    static class Eventually
    {
        public static async Task<List<UsageRecord>> Rows(EmbeddingsTestApp app, string userId)
        {
            await app.Services.GetRequiredService<Aggregator.Web.Upstream.Usage.UsageRecorder>().FlushAsync();
            return await app.QueryAsync(db => db.Usage.AsNoTracking().Where(u => u.UserId == userId).ToListAsync());
        }
    }
}
