using System.Net;
using System.Text.Json;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>Two nodes on a Redis of their own, which the test kills and restarts.</summary>
public sealed class RedisOutageNodes : TwoChatNodes
{
    public PrivateRedis Redis { get; } = new();

    protected override ChatTestApp CreateFirstNode() => new OnPrivateRedis(Redis.ConnectionString);

    public override async Task InitializeAsync()
    {
        await Redis.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Redis.Dispose();
    }

    sealed class OnPrivateRedis(string redis) : ChatTestApp
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings) { ["ConnectionStrings:Redis"] = redis };
    }
}

/// <summary>
/// Redis killed mid-run: a reply still streams to the user's connection on the node producing it (the
/// backplane's publish fails; the node delivers locally), readiness says Degraded naming Redis, liveness
/// stays up; Redis back: readiness healthy again, B drops copies it may have missed a change to, and a
/// reply made on A reaches the connection on B again.
/// With Redis working, nothing is delivered twice.
/// </summary>
public sealed class RedisOutageTests(RedisOutageNodes nodes) : IClassFixture<RedisOutageNodes>
{
    ChatTestApp A => nodes.A;
    SecondNode B => nodes.B;

    [Fact]
    public async Task Chat_keeps_streaming_with_Redis_down_readiness_says_degraded_and_cross_node_delivery_returns_with_Redis()
    {
        var user = await A.UserAsync();
        var catalogA = A.Services.GetRequiredService<CatalogCache>();
        var catalogB = B.Services.GetRequiredService<CatalogCache>();
        var missed = await A.QueryAsync(async db => await ChatTestApp.AddModelAsync(db,
            await db.Providers.FirstAsync(), "m-missed", "Hidden while B is cut off", Tier.Free));
        await Eventually.Until(async () => (await catalogB.GetAsync(Tier.Free)).Find(missed.Id) is not null, found => found, "B lists the model");
        await using var onA = await user.ConnectAsync();
        await using var onB = await user.ConnectAsync(node: B);
        await Eventually.Until(() => ReadinessAsync(A), r => r.Status == "Healthy", "A ready");

        var before = await onA.SendAsync(A.FreeModelId, "before the outage");
        await onA.CompletedAsync(before.AssistantMessageId);
        await onB.CompletedAsync(before.AssistantMessageId); // through the backplane
        AssertDeliveredOnce(onA, before.AssistantMessageId);
        AssertDeliveredOnce(onB, before.AssistantMessageId);

        nodes.Redis.Kill();
        var degraded = await Eventually.Until(() => ReadinessAsync(A), r => r.Status == "Degraded", "A degraded", TimeSpan.FromSeconds(15));
        Assert.Equal(HttpStatusCode.OK, degraded.Code); // still serving: the balancer keeps it
        Assert.Equal("Degraded", degraded.Checks["redis"].Status);
        Assert.Contains("Redis unreachable", degraded.Checks["redis"].Description);
        Assert.Equal("Healthy", degraded.Checks["database"].Status);
        Assert.Equal(HttpStatusCode.OK, (await A.CreateClient().GetAsync("/health/live")).StatusCode);

        var during = await onA.SendAsync(A.FreeModelId, "during the outage");
        var completed = await onA.CompletedAsync(during.AssistantMessageId);
        Assert.Equal("complete", completed.Status);
        Assert.NotEmpty(completed.Content);
        AssertDeliveredOnce(onA, during.AssistantMessageId);

        // An admin change while B cannot hear it: A applies it at once, B still has its copy (L1 lasts 30 s).
        await A.QueryAsync(async db =>
        {
            (await db.Models.SingleAsync(m => m.Id == missed.Id)).Hidden = true;
            return await db.SaveChangesAsync();
        });
        Assert.Null((await catalogA.GetAsync(Tier.Free)).Find(missed.Id));
        Assert.NotNull((await catalogB.GetAsync(Tier.Free)).Find(missed.Id));

        await nodes.Redis.StartAsync();
        await Eventually.Until(() => ReadinessAsync(A), r => r.Status == "Healthy", "A healthy again", TimeSpan.FromSeconds(15));
        await Eventually.Until(() => ReadinessAsync(B), r => r.Status == "Healthy", "B healthy again", TimeSpan.FromSeconds(15));
        // Back on Redis, B drops what it may have missed messages about.
        await Eventually.Until(async () => (await catalogB.GetAsync(Tier.Free)).Find(missed.Id) is null, gone => gone,
            "B drops its stale catalogue once Redis is back", TimeSpan.FromSeconds(5));

        // The backplanes reconnect on their own schedule (their own clients): within a few replies, B hears A's again.
        for (var attempt = 1; ; attempt++)
        {
            var after = await onA.SendAsync(A.FreeModelId, "after the outage");
            await onA.CompletedAsync(after.AssistantMessageId);
            try
            {
                await onB.CompletedAsync(after.AssistantMessageId).WaitAsync(TimeSpan.FromSeconds(5)); // the connection on B hears A's reply again
            }
            catch (TimeoutException) when (attempt < 5) { continue; }
            AssertDeliveredOnce(onA, after.AssistantMessageId);
            AssertDeliveredOnce(onB, after.AssistantMessageId);
            break;
        }
    }

    static void AssertDeliveredOnce(ChatConnection connection, long messageId)
    {
        var seqs = connection.DeltasOf(messageId).Select(d => d.Seq).ToList();
        Assert.NotEmpty(seqs);
        Assert.Equal(seqs.Distinct().Count(), seqs.Count);
    }

    internal sealed record CheckEntry(string Status, string? Description);
    internal sealed record Readiness(HttpStatusCode Code, string Status, Dictionary<string, CheckEntry> Checks);

    internal static async Task<Readiness> ReadinessAsync(AppFactory node)
    {
        using var response = await node.CreateClient().GetAsync("/health/ready");
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var checks = doc.RootElement.GetProperty("checks").EnumerateObject()
            .ToDictionary(c => c.Name, c => new CheckEntry(c.Value.GetProperty("status").GetString()!, c.Value.GetProperty("description").GetString()));
        return new Readiness(response.StatusCode, doc.RootElement.GetProperty("status").GetString()!, checks);
    }
}
