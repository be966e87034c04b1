using System.Text.Json;
using System.Net;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Usage;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Api;

/// <summary>Monthly budgets on tokens (USD at our prices, or tokens), checked on every /v1 POST before anything else.</summary>
public sealed class TokenBudgetTests(ApiTestApp app) : IClassFixture<ApiTestApp>
{
    static TimeSpan UntilNextMonth => TokenSpend.NextMonth(DateTime.UtcNow) - DateTime.UtcNow;

    static void AssertRenewsNextMonth(HttpResponseMessage refused)
    {
        var retry = refused.Headers.RetryAfter?.Delta ?? throw new Xunit.Sdk.XunitException("no Retry-After");
        Assert.InRange(retry, UntilNextMonth - TimeSpan.FromMinutes(1), UntilNextMonth + TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task A_tiny_usd_budget_lets_the_first_call_through_and_refuses_the_next_until_next_month()
    {
        var user = await app.UserAsync();
        var (secret, tokenId) = await app.TokenAsync(user, budgetUsd: 0.000001m);
        var client = app.Api(secret);

        var first = await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("cheap/gpt-4.1", "hi mock:tokens=5"));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        var refused = await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("cheap/gpt-4.1", "again"));
        var error = await refused.ErrorAsync(429);
        Assert.Equal("insufficient_quota", error.GetProperty("type").GetString());
        Assert.Equal("budget_exceeded", error.GetProperty("code").GetString());
        Assert.Contains("monthly budget of 0.000001 USD", error.GetProperty("message").GetString());
        AssertRenewsNextMonth(refused);
        await (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("cheap/gpt-4.1", "again", stream: true))).ErrorAsync(429);

        await app.Services.GetRequiredService<UsageRecorder>().FlushAsync();
        var row = await app.QueryAsync(db => db.Usage.AsNoTracking().SingleAsync(u => u.ApiTokenId == tokenId));
        Assert.True(row.CostUsd > 0.000001m, "the one call that passed cost more than the budget");
    }

    [Fact]
    public async Task A_token_budget_counts_prompt_and_completion_tokens()
    {
        var user = await app.UserAsync();
        var (secret, _) = await app.TokenAsync(user, budgetTokens: 10);
        var client = app.Api(secret);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi mock:tokens=8"))).StatusCode);

        var refused = await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi"));
        var error = await refused.ErrorAsync(429);
        Assert.Contains("monthly budget of 10 tokens", error.GetProperty("message").GetString());
        AssertRenewsNextMonth(refused);
    }

    [Fact]
    public async Task Spend_recorded_earlier_this_month_counts_and_last_months_does_not()
    {
        var user = await app.UserAsync();
        var (spentSecret, spentId) = await app.TokenAsync(user, budgetUsd: 1m);
        var (freshSecret, freshId) = await app.TokenAsync(user, budgetUsd: 1m);
        var now = DateTime.UtcNow;
        var lastMonth = new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(-1);
        await app.QueryAsync(async db =>
        {
            // As a previous run of the server left them: this month's spend, and last month's (already renewed).
            db.Usage.Add(new UsageRecord { UserId = user.UserId, ApiTokenId = spentId, Source = "api", CreatedAt = now.AddSeconds(-5), Day = DateOnly.FromDateTime(now), CostUsd = 1.5m });
            db.Usage.Add(new UsageRecord { UserId = user.UserId, ApiTokenId = freshId, Source = "api", CreatedAt = lastMonth, Day = DateOnly.FromDateTime(lastMonth), CostUsd = 100m });
            return await db.SaveChangesAsync();
        });

        var error = await (await app.Api(spentSecret).PostAsync("/v1/chat/completions", ApiTestApp.Chat("cheap/gpt-4.1", "hi"))).ErrorAsync(429);
        Assert.Contains("1.50 USD spent", error.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.OK, (await app.Api(freshSecret).PostAsync("/v1/chat/completions", ApiTestApp.Chat("cheap/gpt-4.1", "hi mock:tokens=1"))).StatusCode);
    }

    [Fact]
    public async Task Every_post_endpoint_under_v1_refuses_a_token_over_its_budget_before_reading_the_body()
    {
        var user = await app.UserAsync();
        var (secret, _) = await app.TokenAsync(user, budgetTokens: 1);
        var client = app.Api(secret);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "spend mock:tokens=2"))).StatusCode);

        // Whatever endpoints exist now or are added later: each POST under /v1 is refused the same way.
        var posts = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/v1/", StringComparison.Ordinal) == true && !e.RoutePattern.RawText.Contains("{**rest}")
                        && e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains("POST") == true)
            .Select(e => e.RoutePattern.RawText!).ToList();
        Assert.Contains("/v1/chat/completions", posts);
        foreach (var path in posts)
        {
            // Each in its caller's protocol: OpenAI's {"error":{...,"param"}}, Anthropic's {"type":"error","error":{...}}.
            using var response = await client.PostAsync(path, ApiTestApp.Json("{}"));
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
            Assert.Contains("monthly budget", error.GetProperty("message").GetString());
        }
    }
}
