using System.Net;
using System.Text.Json;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Upstream.Routing;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>
/// An admin change saved on node A reaches node B within a second: B's catalogue (its L1 copy too), its
/// routing table, its account states (so B's open hub connections and B's cookie requests meet the new
/// tier or role). Each of these kept B's copy for 5 to 30 seconds before the changes were broadcast.
/// </summary>
public sealed class ChangePropagationTests(TwoChatNodes nodes) : IClassFixture<TwoChatNodes>
{
    static readonly TimeSpan WithinASecond = TimeSpan.FromSeconds(1);
    ChatTestApp A => nodes.A;
    SecondNode B => nodes.B;

    [Fact]
    public async Task A_model_hidden_on_one_node_leaves_the_other_nodes_catalogue_within_a_second()
    {
        var provider = await SeedProviderAsync("hide");
        var model = await A.QueryAsync(db => ChatTestApp.AddModelAsync(db, provider, "m-hide", "Soon hidden", Tier.Free));
        var user = await A.UserAsync();
        var onB = TwoChatNodes.ClientOn(B, user);
        await Eventually.Until(() => CatalogIdsAsync(onB), ids => ids.Contains(model.Id), "B lists the new model"); // B's L1 now holds it

        await WithTrackedAsync(A, db => db.Models.SingleAsync(m => m.Id == model.Id), m => m.Hidden = true);

        await Eventually.Until(() => CatalogIdsAsync(onB), ids => !ids.Contains(model.Id), "B's catalogue drops the hidden model", WithinASecond);
    }

    [Fact]
    public async Task A_provider_disabled_on_one_node_stops_routing_and_listing_on_the_other_within_a_second()
    {
        var provider = await SeedProviderAsync("off");
        var model = await A.QueryAsync(db => ChatTestApp.AddModelAsync(db, provider, "m-off", "Provider soon off", Tier.Free));
        var catalogB = B.Services.GetRequiredService<CatalogCache>();
        var routingB = B.Services.GetRequiredService<RoutingTable>();
        await Eventually.Until(async () => (await catalogB.GetAsync(Tier.Free)).Find(model.Id) is not null, found => found, "B lists the model");
        await routingB.ReloadAsync();
        Assert.True(routingB.Current.Providers[provider.Id].Enabled);

        await WithTrackedAsync(A, db => db.Providers.SingleAsync(p => p.Id == provider.Id), p => p.Enabled = false);

        await Eventually.Until(() => !routingB.Current.Providers.TryGetValue(provider.Id, out var p) || !p.Enabled,
            "B's routing table sees the provider disabled", WithinASecond);
        Assert.Null((await catalogB.GetAsync(Tier.Free)).Find(model.Id));
    }

    [Fact]
    public async Task A_key_deactivated_on_one_node_leaves_the_other_nodes_routing_table_within_a_second()
    {
        var provider = await SeedProviderAsync("key");
        var routingB = B.Services.GetRequiredService<RoutingTable>();
        await routingB.ReloadAsync();
        var key = Assert.Single(routingB.Current.Keys, k => k.ProviderId == provider.Id);
        Assert.True(key.Active);

        await WithTrackedAsync(A, db => db.ApiKeys.SingleAsync(k => k.Id == key.Id), k => k.Active = false);

        await Eventually.Until(() => routingB.Current.Keys.All(k => k.Id != key.Id || !k.Active), "B's routing table sees the key inactive", WithinASecond);
    }

    [Fact]
    public async Task A_tier_downgrade_on_one_node_is_refused_on_the_other_nodes_open_hub_connection_and_cookie_within_a_second()
    {
        var user = await ChatUser.CreateAsync(A, Tier.Pro);
        await using var onB = await user.ConnectAsync(node: B);
        var sent = await onB.SendAsync(A.ProModelId, "hello from a pro user");
        await onB.CompletedAsync(sent.AssistantMessageId);
        var http = TwoChatNodes.ClientOn(B, user);
        Assert.Equal("pro", await CatalogTierAsync(http));

        await using (var scope = A.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var entity = await users.FindByIdAsync(user.UserId) ?? throw new InvalidOperationException("no user");
            entity.Tier = Tier.Free;
            Assert.True((await users.UpdateAsync(entity)).Succeeded);
        }

        // The same open connection on B, the very next calls: refused once B has heard of the change.
        var refused = await Eventually.Until(async () =>
        {
            try
            {
                var reply = await onB.SendAsync(A.ProModelId, "still pro?");
                await onB.CompletedAsync(reply.AssistantMessageId);
                return null;
            }
            catch (HubException ex) { return ex; }
        }, ex => ex is not null, "B refuses the pro model", WithinASecond);
        Assert.Contains("tier", refused!.Message, StringComparison.OrdinalIgnoreCase);
        // The page on B was told (through the backplane, from A) and its cookie requests carry the new tier.
        await Eventually.Until(() => onB.AccountChanges.Any(a => a.Tier == "free"), "B's page hears AccountChanged(free)", WithinASecond);
        Assert.Equal("free", await CatalogTierAsync(http));
    }

    [Fact]
    public async Task A_role_granted_then_removed_on_one_node_opens_then_closes_the_admin_pages_on_the_other_within_a_second()
    {
        var user = await A.UserAsync();
        var onB = TwoChatNodes.ClientOn(B, user);
        Assert.Equal(HttpStatusCode.Forbidden, (await onB.GetAsync("/Admin")).StatusCode);

        await ChangeRoleAsync(user, admin: true);
        await Eventually.Until(async () => (await onB.GetAsync("/Admin")).StatusCode, s => s == HttpStatusCode.OK, "B lets the new admin in", WithinASecond);

        await ChangeRoleAsync(user, admin: false);
        await Eventually.Until(async () => (await onB.GetAsync("/Admin")).StatusCode, s => s == HttpStatusCode.Forbidden, "B shuts the ex-admin out", WithinASecond);
    }

    async Task ChangeRoleAsync(ChatUser user, bool admin)
    {
        await using var scope = A.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var entity = await users.FindByIdAsync(user.UserId) ?? throw new InvalidOperationException("no user");
        var result = admin ? await users.AddToRoleAsync(entity, AccountExtensions.AdminRole) : await users.RemoveFromRoleAsync(entity, AccountExtensions.AdminRole);
        Assert.True(result.Succeeded);
    }

    async Task<Provider> SeedProviderAsync(string name)
    {
        await using var scope = A.Services.CreateAsyncScope();
        return await ChatTestApp.SeedProviderAsync(scope.ServiceProvider.GetRequiredService<AppDbContext>(),
            scope.ServiceProvider.GetRequiredService<Aggregator.Web.Security.SecretBox>(), $"{name}-{Guid.NewGuid():N}"[..12], $"Provider {name}", A.Mock.OpenAIUrl);
    }

    /// <summary>A tracked change saved on <paramref name="node"/>, as the admin pages save theirs.</summary>
    static async Task WithTrackedAsync<T>(AppFactory node, Func<AppDbContext, Task<T>> find, Action<T> change)
    {
        await using var scope = node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        change(await find(db));
        await db.SaveChangesAsync();
    }

    static async Task<HashSet<long>> CatalogIdsAsync(HttpClient http)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync("/api/catalog"));
        return doc.RootElement.GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("m").EnumerateArray().Select(m => m[0].GetInt64())).ToHashSet();
    }

    static async Task<string> CatalogTierAsync(HttpClient http)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync("/api/catalog"));
        return doc.RootElement.GetProperty("tier").GetString()!;
    }
}
