using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Aggregator.Web.Features.Api;
using Aggregator.Web.Tests.Api;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>The API app with unlimited tiers (only the token's own limits apply) and 5 failed token authentications per address.</summary>
public sealed class ClusterApiApp : ApiTestApp
{
    public const int FailuresPerAddress = 5;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Quotas:Free:RequestsPerMinute"] = "", ["Quotas:Free:MessagesPerDay"] = "", ["Quotas:Free:TokensPerDay"] = "",
        ["Api:FailedTokens:FailuresPerAddress"] = FailuresPerAddress.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Api:FailedTokens:WindowSeconds"] = "600",
    };
}

/// <summary>An API token's rate limit and budget, and the failed-authentication limit, hold across two nodes (B's clock 2 s ahead).</summary>
public sealed class SharedApiLimitsTests : IAsyncLifetime
{
    readonly ClusterApiApp _a = new();
    SecondNode _second = null!;
    WebApplicationFactory<Program> _b = null!;

    public async Task InitializeAsync()
    {
        await ((IAsyncLifetime)_a).InitializeAsync();
        _second = new SecondNode(_a);
        _b = _second.WithClockOff(TimeSpan.FromSeconds(2));
        _b.StartServer();
    }

    public async Task DisposeAsync()
    {
        await _second.DisposeAsync();
        await ((IAsyncLifetime)_a).DisposeAsync();
        await _a.DisposeAsync();
    }

    static HttpClient Api(WebApplicationFactory<Program> node, string secret)
    {
        var client = node.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return client;
    }

    // Admitted requests name a model that does not exist: they end at once with a 404, past admission.
    static StringContent Nowhere() => ApiTestApp.Chat("nowhere/no-such-model", "hi");

    [Fact]
    public async Task A_tokens_requests_per_minute_are_limited_exactly_across_two_nodes()
    {
        var user = await _a.UserAsync();
        var (secret, _) = await _a.TokenAsync(user, rpm: 60);
        HttpClient[] clients = [Api(_a, secret), Api(_b, secret)];
        var statuses = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i => (await clients[i % 2].PostAsync("/v1/chat/completions", Nowhere())).StatusCode));
        Assert.Equal(140, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(60, statuses.Count(s => s == HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task What_a_token_spends_on_one_node_counts_against_its_budget_on_the_other()
    {
        var user = await _a.UserAsync();
        var (secret, _) = await _a.TokenAsync(user, budgetTokens: 1);
        var onB = Api(_b, secret);
        Assert.Equal(HttpStatusCode.NotFound, (await onB.PostAsync("/v1/chat/completions", Nowhere())).StatusCode); // B has read the month: nothing spent

        Assert.Equal(HttpStatusCode.OK, (await Api(_a, secret).PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi"))).StatusCode);
        var refused = await Eventually.Until(() => onB.PostAsync("/v1/chat/completions", Nowhere()), r => r.StatusCode == HttpStatusCode.TooManyRequests,
            "B refusing the token once A's reply used its budget", TimeSpan.FromSeconds(5));
        Assert.Contains("monthly budget", (await refused.ErrorAsync(429)).GetProperty("message").GetString());
    }

    [Fact]
    public async Task Failed_token_guesses_from_one_address_are_limited_across_nodes_in_the_callers_protocol()
    {
        for (var i = 0; i < ClusterApiApp.FailuresPerAddress; i++)
        {
            var node = i % 2 == 0 ? _a : (WebApplicationFactory<Program>)_b;
            Assert.Equal(HttpStatusCode.Unauthorized, (await Api(node, TokenSecrets.Generate()).PostAsync("/v1/chat/completions", Nowhere())).StatusCode);
        }

        var openAI = await Api(_a, TokenSecrets.Generate()).PostAsync("/v1/chat/completions", Nowhere());
        var error = await openAI.ErrorAsync(429);
        Assert.Contains("failed API token authentications", error.GetProperty("message").GetString());
        Assert.True(openAI.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After");

        var anthropicClient = _b.CreateClient();
        anthropicClient.DefaultRequestHeaders.Add("x-api-key", TokenSecrets.Generate());
        anthropicClient.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        var anthropic = await anthropicClient.PostAsync("/v1/messages", ApiTestApp.Json("""{"model":"x","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.TooManyRequests, anthropic.StatusCode);
        Assert.True(anthropic.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After");
        using var body = JsonDocument.Parse(await anthropic.Content.ReadAsStringAsync());
        Assert.Equal("error", body.RootElement.GetProperty("type").GetString());
        Assert.Equal("rate_limit_error", body.RootElement.GetProperty("error").GetProperty("type").GetString());
    }
}
