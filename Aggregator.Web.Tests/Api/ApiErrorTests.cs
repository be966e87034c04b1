using System.Net;
using System.Text.Json;

namespace Aggregator.Web.Tests.Api;

/// <summary>Bad input and refusals: OpenAI's error shape, the right status, the field named.</summary>
public sealed class ApiErrorTests(ApiTestApp app) : IClassFixture<ApiTestApp>
{
    async Task<HttpClient> ClientAsync()
    {
        var user = await app.UserAsync();
        return app.Api((await app.TokenAsync(user)).Secret);
    }

    [Theory]
    [InlineData("{not json", null, "invalid_json")]
    [InlineData("[1,2]", null, "invalid_json")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}]}""", "model", "missing_required_parameter")]
    [InlineData("""{"model":"mock/gpt-4o-mini"}""", "messages", "missing_required_parameter")]
    [InlineData("""{"model":"mock/gpt-4o-mini","messages":[]}""", "messages", "invalid_value")]
    [InlineData("""{"model":"mock/gpt-4o-mini","messages":"hi"}""", "messages", "invalid_type")]
    [InlineData("""{"model":"mock/gpt-4o-mini","messages":[{"role":"user","content":42}]}""", "messages[0].content", "invalid_type")]
    [InlineData("""{"model":"mock/gpt-4o-mini","messages":[{"role":"wizard","content":"hi"}]}""", "messages[0].role", "invalid_value")]
    [InlineData("""{"model":"mock/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":"yes"}""", "stream", "invalid_type")]
    [InlineData("""{"model":"mock/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":-3}""", "max_tokens", "invalid_value")]
    [InlineData("""{"model":"mock/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}""", "temperature", "invalid_value")]
    public async Task A_malformed_body_is_a_400_naming_the_field(string body, string? param, string code)
    {
        var client = await ClientAsync();
        var error = await (await client.PostAsync("/v1/chat/completions", ApiTestApp.Json(body))).ErrorAsync(400);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Text_content_parts_are_joined_and_unknown_fields_reach_the_upstream_untouched()
    {
        var client = await ClientAsync();
        var body = """{"model":"mock/gpt-4o-mini","messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"parts "},{"type":"text","text":"joined mock:tokens=12"}]}],"max_completion_tokens":50,"temperature":0.5,"seed":1234,"user":"abc"}""";
        var response = await client.PostAsync("/v1/chat/completions", ApiTestApp.Json(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("chat.completion", doc.RootElement.GetProperty("object").GetString());
        Assert.Contains("parts joined", doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());

        // The caller's parts reach an OpenAI-standard upstream as sent (not joined).
        var sent = app.Mock.State.Received.Last(r => r.Path.EndsWith("/chat/completions") && r.Body.Contains("joined mock:tokens=12"));
        using var upstream = JsonDocument.Parse(sent.Body);
        Assert.Equal(1234, upstream.RootElement.GetProperty("seed").GetInt32());
        Assert.Equal("abc", upstream.RootElement.GetProperty("user").GetString());
        Assert.Equal(50, upstream.RootElement.GetProperty("max_completion_tokens").GetInt32()); // the caller's body, as sent
        Assert.Equal("gpt-4o-mini", upstream.RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public async Task No_token_or_a_wrong_one_is_a_401_in_json_never_a_redirect()
    {
        var none = await app.Api(null).GetAsync("/v1/models");
        var error = await none.ErrorAsync(401);
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
        await (await app.Api("agg-" + new string('x', 43)).GetAsync("/v1/models")).ErrorAsync(401);
        await (await app.Api("sk-something-else").PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi"))).ErrorAsync(401);
    }

    [Fact]
    public async Task The_x_api_key_header_authenticates_as_well()
    {
        var user = await app.UserAsync();
        var (secret, _) = await app.TokenAsync(user);
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("x-api-key", secret);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/models")).StatusCode);
    }

    [Fact]
    public async Task An_expired_token_is_refused()
    {
        var user = await app.UserAsync();
        var (secret, _) = await app.TokenAsync(user, expires: DateTime.UtcNow.AddMinutes(-1));
        var error = await (await app.Api(secret).GetAsync("/v1/models")).ErrorAsync(401);
        Assert.Contains("expired", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Unknown_models_are_404_and_models_above_the_tier_403()
    {
        var client = await ClientAsync();
        var unknown = await (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/no-such-model", "hi"))).ErrorAsync(404);
        Assert.Equal("model_not_found", unknown.GetProperty("code").GetString());
        await (await client.GetAsync("/v1/models/mock%2Fno-such-model")).ErrorAsync(404);
        await (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-secret", "hi"))).ErrorAsync(404); // hidden

        var locked = await (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o", "hi"))).ErrorAsync(403);
        Assert.Equal("model_not_allowed", locked.GetProperty("code").GetString());
        Assert.Contains("pro tier", locked.GetProperty("message").GetString());
        await (await client.GetAsync("/v1/models/mock%2Fgpt-4o")).ErrorAsync(404); // locked models are absent from the list
        await (await client.GetAsync("/v1/nothing-here")).ErrorAsync(404);
    }

    [Fact]
    public async Task The_allow_list_limits_the_models_listed_and_usable()
    {
        var user = await app.UserAsync();
        var (secret, _) = await app.TokenAsync(user, allowed: "mock/*, gpt-4.1");
        var client = app.Api(secret);

        using var list = JsonDocument.Parse(await client.GetStringAsync("/v1/models"));
        var ids = list.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).Order().ToList();
        Assert.Equal(["cheap/gpt-4.1", "direct/gpt-4.1", "mock/gpt-4o-mini"], ids);
        var refused = await (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("cheap/gpt-4o-mini", "hi"))).ErrorAsync(403);
        Assert.Contains("not allowed", refused.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi mock:tokens=2"))).StatusCode);
    }

    [Fact]
    public async Task A_bare_model_id_prefers_the_lower_price_then_a_direct_provider()
    {
        var client = await ClientAsync();
        async Task<string?> ModelOf(string model)
        {
            var response = await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat(model, "hi mock:tokens=2"));
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return doc.RootElement.GetProperty("model").GetString();
        }
        Assert.Equal("cheap/gpt-4.1", await ModelOf("gpt-4.1"));          // cheaper wins
        Assert.Equal("direct/gpt-4o-mini", await ModelOf("gpt-4o-mini")); // same price (mock has none): direct wins
    }

    [Fact]
    public async Task The_tokens_requests_per_minute_limit_gives_429_with_retry_after()
    {
        var user = await app.UserAsync();
        var (secret, _) = await app.TokenAsync(user, rpm: 3);
        var client = app.Api(secret);
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi mock:tokens=1"))).StatusCode);
        var limited = await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi mock:tokens=1"));
        var error = await limited.ErrorAsync(429);
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After");
    }

    [Fact]
    public async Task Concurrent_requests_past_the_limit_let_exactly_the_limit_through()
    {
        var user = await app.UserAsync();
        var (secret, _) = await app.TokenAsync(user, rpm: 5);
        var client = app.Api(secret);
        var statuses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
            (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi mock:tokens=1"))).StatusCode));
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(15, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413()
    {
        var client = await ClientAsync();
        var huge = new string('a', Aggregator.Web.Features.Api.ApiBody.MaxBytes + 1024);
        var error = await (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", huge))).ErrorAsync(413);
        Assert.Equal("request_too_large", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Every_key_failing_is_a_502()
    {
        var client = await ClientAsync();
        var error = await (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi mock:fault=500"))).ErrorAsync(502);
        Assert.Equal("upstream_error", error.GetProperty("type").GetString());
    }
}
