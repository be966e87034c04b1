using System.Net;

namespace Aggregator.Web.Tests.Api;

/// <summary>The API app with a free tier of one message a day.</summary>
public sealed class OneMessageApiApp : ApiTestApp
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Quotas:Free:MessagesPerDay"] = "1",
    };
}

/// <summary>The tier quotas the chat has apply to the API too (the same router takes them).</summary>
public sealed class ApiQuotaTests(OneMessageApiApp app) : IClassFixture<OneMessageApiApp>
{
    [Fact]
    public async Task Over_the_tiers_daily_quota_is_a_429_with_retry_after_in_both_modes()
    {
        var user = await app.UserAsync();
        var client = app.Api((await app.TokenAsync(user)).Secret);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi mock:tokens=1"))).StatusCode);

        var again = await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi"));
        var error = await again.ErrorAsync(429);
        Assert.Contains("Daily limit", error.GetProperty("message").GetString());
        Assert.True(again.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After");
        await (await client.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi", stream: true))).ErrorAsync(429);
    }
}
