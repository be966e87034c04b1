using Aggregator.Web.Data;
using Aggregator.Web.Features.Admin.Providers;
using Aggregator.Web.Tests.Router;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Admin;

public sealed class KeyAdminTests(RouterAppFactory app) : IClassFixture<RouterAppFactory>
{
    async Task<T> WithKeysAsync<T>(Func<ApiKeyService, Task<T>> action)
    {
        using var scope = app.Services.CreateScope();
        return await action(scope.ServiceProvider.GetRequiredService<ApiKeyService>());
    }

    [Fact]
    public async Task A_key_the_admin_disables_leaves_rotation_at_once()
    {
        var seeded = await app.SeedAsync([RouterAppFactory.NewSecret(), RouterAppFactory.NewSecret()]);
        await WithKeysAsync(keys => keys.SetActiveAsync(seeded.KeyIds[0], active: false, CancellationToken.None));

        for (var i = 0; i < 4; i++)
        {
            var run = await app.Router.RunAsync(seeded.Ask());
            run.AssertCompleted();
            Assert.Equal(seeded.KeyIds[1], run.Route!.ApiKeyId);
        }
        Assert.Equal(0, app.Mock.State.CountFor(seeded.Secrets[0]));
    }

    [Fact]
    public async Task The_router_never_brings_back_a_key_an_admin_disabled()
    {
        var flaky = RouterAppFactory.NewSecret("flaky");
        var seeded = await app.SeedAsync([flaky, RouterAppFactory.NewSecret()]);
        app.Mock.State.SetKeyFault(flaky, "429");
        // Disabled in the database by an admin (say on another node) before this node's pool reloaded.
        await app.DbAsync(db => db.ApiKeys.Where(k => k.Id == seeded.KeyIds[0]).ExecuteUpdateAsync(s => s
            .SetProperty(k => k.Active, false).SetProperty(k => k.DisabledReason, "Disabled by an admin")));

        var run = await app.Router.RunAsync(seeded.Ask());
        run.AssertCompleted();
        await app.FlushAsync();

        var key = await app.DbAsync(db => db.ApiKeys.SingleAsync(k => k.Id == seeded.KeyIds[0]));
        Assert.False(key.Active);
        Assert.Equal("Disabled by an admin", key.DisabledReason);
    }

    [Fact]
    public async Task Adding_a_duplicate_or_garbage_secret_is_refused_with_a_clear_message()
    {
        var secret = RouterAppFactory.NewSecret();
        var seeded = await app.SeedAsync([secret]);

        var (_, duplicate, _) = await WithKeysAsync(keys => keys.AddAsync(seeded.ProviderId, "again", secret, CancellationToken.None));
        var (_, empty, _) = await WithKeysAsync(keys => keys.AddAsync(seeded.ProviderId, "", "   ", CancellationToken.None));
        var (_, garbage, _) = await WithKeysAsync(keys => keys.AddAsync(seeded.ProviderId, "", "sk live key with spaces", CancellationToken.None));

        Assert.Contains("already in", duplicate);
        Assert.Equal("Paste the API key.", empty);
        Assert.Contains("does not look like an API key", garbage);
        Assert.Equal(1, await app.DbAsync(db => db.ApiKeys.CountAsync(k => k.ProviderId == seeded.ProviderId)));
    }

    [Fact]
    public async Task Keys_are_stored_encrypted_masked_and_audited_without_the_secret()
    {
        var seeded = await app.SeedAsync([RouterAppFactory.NewSecret()]);
        var secret = "sk-admin-added-" + Guid.NewGuid().ToString("N");

        var (key, error, _) = await WithKeysAsync(keys => keys.AddAsync(seeded.ProviderId, "second", secret, CancellationToken.None));

        Assert.Null(error);
        var stored = await app.DbAsync(db => db.ApiKeys.AsNoTracking().SingleAsync(k => k.Id == key!.Id));
        Assert.DoesNotContain(secret, stored.EncryptedSecret);
        Assert.Equal("sk-…" + secret[^4..], stored.MaskedHint);
        var audit = await app.DbAsync(db => db.AuditLog.Where(a => a.Action == "key.add" && a.EntityId == key!.Id.ToString()).SingleAsync());
        Assert.DoesNotContain(secret, audit.Details);
    }
}
