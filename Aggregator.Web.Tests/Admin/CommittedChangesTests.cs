using System.Net;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Admin;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Upstream.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Admin;

/// <summary>Audit and invalidation are one mechanism: a committed save refreshes the catalogue and the router by itself.</summary>
public sealed class CommittedChangesTests(CommittedChangesTests.App app) : IClassFixture<CommittedChangesTests.App>
{
    public sealed class App : AppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Sync:SchedulerEnabled"] = "false" };
    }

    readonly string _tag = Guid.NewGuid().ToString("N")[..8];

    async Task<T> InScopeAsync<T>(Func<IServiceProvider, AppDbContext, Task<T>> work)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider, scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    async Task<string> CatalogAsync(HttpClient client)
    {
        var response = await client.GetAsync("/api/catalog");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task A_change_saved_through_the_DbContext_alone_reaches_the_catalogue_and_the_router_at_once()
    {
        var client = await app.RegisterAsync($"reader-{_tag}@example.com");
        var provider = await InScopeAsync((sp, db) => ChatTestApp.SeedProviderAsync(db, sp.GetRequiredService<SecretBox>(), "p-" + _tag, "Prov " + _tag, "http://127.0.0.1:9/v1"));
        await InScopeAsync((_, db) => ChatTestApp.AddModelAsync(db, provider, "first-" + _tag, "First " + _tag, Tier.Free));
        Assert.Contains("first-" + _tag, await CatalogAsync(client)); // now cached

        // Nothing here calls CatalogCache.InvalidateAsync or RoutingTable.ReloadAsync.
        var second = await InScopeAsync((_, db) => ChatTestApp.AddModelAsync(db, provider, "second-" + _tag, "Second " + _tag, Tier.Free));
        Assert.Contains("second-" + _tag, await CatalogAsync(client));
        var routing = app.Services.GetRequiredService<RoutingTable>();
        Assert.True(routing.Current.Models.ContainsKey(second.Id));

        await InScopeAsync(async (_, db) =>
        {
            (await db.Providers.SingleAsync(p => p.Id == provider.Id)).Enabled = false;
            return await db.SaveChangesAsync();
        });
        Assert.DoesNotContain(_tag, await CatalogAsync(client));
        Assert.False(routing.Current.Providers[provider.Id].Enabled);
    }

    [Fact]
    public async Task A_change_inside_an_explicit_transaction_is_published_at_its_commit_not_before()
    {
        var client = await app.RegisterAsync($"tx-{_tag}@example.com");
        var provider = await InScopeAsync((sp, db) => ChatTestApp.SeedProviderAsync(db, sp.GetRequiredService<SecretBox>(), "t-" + _tag, "Tx " + _tag, "http://127.0.0.1:9/v1"));
        var routing = app.Services.GetRequiredService<RoutingTable>();
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await using var tx = await db.Database.BeginTransactionAsync();
        var model = await ChatTestApp.AddModelAsync(db, provider, "late-" + _tag, "Late " + _tag, Tier.Free);
        Assert.False(routing.Current.Models.ContainsKey(model.Id));
        await tx.CommitAsync();
        Assert.True(routing.Current.Models.ContainsKey(model.Id));
        Assert.Contains("late-" + _tag, await CatalogAsync(client));
    }

    [Fact]
    public async Task A_save_that_fails_writes_neither_the_row_nor_its_audit_entry()
    {
        var name = "dup-" + _tag;
        await InScopeAsync((sp, db) => ChatTestApp.SeedProviderAsync(db, sp.GetRequiredService<SecretBox>(), name, "Dup", "http://127.0.0.1:9/v1", withKey: false));

        // The row fails (a taken slug): its entry must not be written either.
        await InScopeAsync(async (sp, db) =>
        {
            var twin = new Provider { Name = name, DisplayName = "Twin", BaseUrl = "http://127.0.0.1:9/v1" };
            db.Providers.Add(twin);
            sp.GetRequiredService<AuditLog>().Record("provider.create", "provider", twin, "twin " + _tag);
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
            return 0;
        });
        // The entry fails (longer than its column) after the new row got its id: the row must go too.
        var lone = "lone-" + _tag;
        await InScopeAsync(async (sp, db) =>
        {
            var provider = new Provider { Name = lone, DisplayName = "Lone", BaseUrl = "http://127.0.0.1:9/v1" };
            db.Providers.Add(provider);
            sp.GetRequiredService<AuditLog>().Record(new string('x', 200), "provider", provider, "lone " + _tag);
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
            return 0;
        });

        await InScopeAsync(async (_, db) =>
        {
            Assert.Equal(1, await db.Providers.CountAsync(p => p.Name == name));
            Assert.False(await db.Providers.AnyAsync(p => p.Name == lone));
            Assert.False(await db.AuditLog.AnyAsync(a => a.Details!.Contains(_tag)));
            return 0;
        });
    }

    [Fact]
    public async Task A_new_row_and_its_audit_entry_commit_together_with_the_row_id()
    {
        var provider = await InScopeAsync(async (sp, db) =>
        {
            var added = new Provider { Name = "new-" + _tag, DisplayName = "New", BaseUrl = "http://127.0.0.1:9/v1" };
            db.Providers.Add(added);
            sp.GetRequiredService<AuditLog>().Record("provider.create", "provider", added, "new " + _tag);
            await db.SaveChangesAsync();
            return added;
        });
        var entry = await InScopeAsync((_, db) => db.AuditLog.SingleAsync(a => a.Details == "new " + _tag));
        Assert.Equal(provider.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), entry.EntityId);
    }
}
