using System.Diagnostics;
using System.Net;
using Aggregator.Web.Data;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Tests.Api;

/// <summary>The token's limits and usage accounting with real sockets: many connections at once, and a caller that hangs up.</summary>
public sealed class TokenLimitsOverTheNetworkTests(KestrelApiApp app) : IClassFixture<KestrelApiApp>
{
    [Fact]
    public async Task Five_hundred_concurrent_requests_on_a_60_rpm_token_let_exactly_60_through()
    {
        var user = await app.AccountAsync(Tier.Max); // no tier limit: only the token's own
        var (secret, _) = await app.TokenAsync(user, rpm: 60);
        using var client = app.Network(secret);
        using var start = new ManualResetEventSlim();
        var requests = Enumerable.Range(0, 500).Select(i => Task.Run(async () =>
        {
            start.Wait();
            using var response = await client.PostAsync("v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", $"burst {i} mock:tokens=1"));
            return (response.StatusCode, response.Headers.RetryAfter?.Delta);
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(requests);

        Assert.Equal(60, results.Count(r => r.StatusCode == HttpStatusCode.OK));
        var refused = results.Where(r => r.StatusCode != HttpStatusCode.OK).ToList();
        Assert.Equal(440, refused.Count);
        Assert.All(refused, r => Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode));
        Assert.All(refused, r => Assert.True(r.Delta > TimeSpan.Zero, "Retry-After on every refusal"));
    }

    [Fact]
    public async Task A_client_that_hangs_up_mid_stream_cancels_the_upstream_within_a_second_and_still_leaves_a_usage_row()
    {
        var user = await app.AccountAsync(Tier.Free);
        var (secret, tokenId) = await app.TokenAsync(user);
        using var client = app.Network(secret);
        var marker = Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = ApiTestApp.Chat("mock/gpt-4o-mini", $"{marker} mock:tokens=60 mock:tps=5", stream: true),
        };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var chunks = 0;
        while (chunks < 3 && await reader.ReadLineAsync() is { } line) // the role chunk and two content chunks
            if (line.StartsWith("data: ", StringComparison.Ordinal)) chunks++;
        Assert.Equal(3, chunks);

        var upstream = app.Mock.State.Received.Single(r => r.Body.Contains(marker));
        Assert.False(upstream.Cancelled.IsCompleted);
        var hungUp = Stopwatch.StartNew();
        response.Dispose(); // the caller goes away with most of the reply unsent
        await upstream.Cancelled.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(hungUp.Elapsed < TimeSpan.FromSeconds(1), $"the upstream request was cancelled {hungUp.Elapsed} after the caller hung up");

        var row = await Eventually.Until(
            () => app.QueryAsync(db => db.Usage.AsNoTracking().SingleOrDefaultAsync(u => u.ApiTokenId == tokenId)),
            r => r is not null, "the cancelled request's usage row");
        Assert.Equal(user, row!.UserId);
        Assert.Equal("api", row.Source);
        Assert.True(row.Estimated, "the provider never sent usage, so the row is an estimate");
        Assert.InRange(row.CompletionTokens, 1, 30); // what was produced before the hang-up, not the whole reply
        Assert.True(row.PromptTokens > 0);
    }
}
