using Aggregator.Web.Data;
using Aggregator.Web.Upstream;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Aggregator.Web.Tests.Router.RouterAppFactory;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Tests.Router;

/// <summary>Model row → provider → tier → availability → enabled → active key, each refusal saying which.</summary>
public class RouterResolutionTests(RouterAppFactory app) : IClassFixture<RouterAppFactory>
{
    [Fact]
    public async Task Unknown_model_is_refused_without_calling_upstream()
    {
        var run = await app.Router.RunAsync(new ChatRequest("u", Tier.Max, 987654, [new ChatTurn(MessageRole.User, "hi")]));
        Assert.Equal(RouterError.ModelNotFound, run.RouterError.Error);
        Assert.Contains("987654", run.RouterError.Message);
    }

    [Fact]
    public async Task A_model_above_the_users_tier_is_refused_and_names_the_tier()
    {
        var seeded = await app.SeedAsync([NewSecret()], tier: Tier.Pro);
        var run = await app.Router.RunAsync(seeded.Ask(tier: Tier.Free));
        Assert.Equal(RouterError.TierTooLow, run.RouterError.Error);
        Assert.Contains("Pro", run.RouterError.Message);
        (await app.Router.RunAsync(seeded.Ask(tier: Tier.Pro))).AssertCompleted();
        (await app.Router.RunAsync(seeded.Ask(tier: Tier.Max))).AssertCompleted();
    }

    [Fact]
    public async Task An_unavailable_model_is_refused()
    {
        var seeded = await app.SeedAsync([NewSecret()], available: false);
        Assert.Equal(RouterError.ModelUnavailable, (await app.Router.RunAsync(seeded.Ask())).RouterError.Error);
    }

    [Fact]
    public async Task A_disabled_provider_is_refused()
    {
        var seeded = await app.SeedAsync([NewSecret()], enabled: false);
        var run = await app.Router.RunAsync(seeded.Ask());
        Assert.Equal(RouterError.ProviderDisabled, run.RouterError.Error);
        Assert.Contains("disabled", run.RouterError.Message);
    }

    [Fact]
    public async Task A_provider_without_active_keys_is_refused()
    {
        var secret = NewSecret();
        var seeded = await app.SeedAsync([secret]);
        await app.DbAsync(db => db.ApiKeys.Where(k => k.ProviderId == seeded.ProviderId)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.Active, false).SetProperty(k => k.DisabledReason, "Disabled by an admin")));
        await app.Services.GetRequiredService<RoutingTable>().ReloadAsync();
        var run = await app.Router.RunAsync(seeded.Ask());
        Assert.Equal(RouterError.NoActiveKey, run.RouterError.Error);
        Assert.Contains("no active API key", run.RouterError.Message);
        Assert.Equal(0, app.Mock.State.CountFor(secret));
    }

    [Fact]
    public async Task A_key_added_after_the_last_load_is_used_without_waiting_for_a_reload()
    {
        var seeded = await app.SeedAsync([NewSecret("old")]);
        await app.DbAsync(db => db.ApiKeys.Where(k => k.ProviderId == seeded.ProviderId)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.Active, false)));
        await app.Services.GetRequiredService<RoutingTable>().ReloadAsync();
        Assert.Equal(RouterError.NoActiveKey, (await app.Router.RunAsync(seeded.Ask())).RouterError.Error);

        var fresh = NewSecret("new");
        await app.DbAsync(async db =>
        {
            var box = app.Services.GetRequiredService<Aggregator.Web.Security.SecretBox>();
            db.ApiKeys.Add(new ApiKey { ProviderId = seeded.ProviderId, Name = "new", EncryptedSecret = box.Encrypt(fresh), SecretFingerprint = box.Fingerprint(fresh), MaskedHint = "sk-…new" });
            return await db.SaveChangesAsync();
        });
        (await app.Router.RunAsync(seeded.Ask())).AssertCompleted();
        Assert.Equal(1, app.Mock.State.CountFor(fresh));
    }

    [Fact]
    public async Task A_model_added_after_the_last_load_is_found()
    {
        var seeded = await app.SeedAsync([NewSecret()]);
        long added = await app.DbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            var model = new AiModel { ProviderId = seeded.ProviderId, ModelId = "gpt-4.1", DisplayName = "GPT-4.1", FirstSeenAt = now, LastSeenAt = now, UpdatedAt = now, ContentHash = "h" };
            db.Models.Add(model);
            await db.SaveChangesAsync();
            return model.Id;
        });
        var run = await app.Router.RunAsync(seeded.Ask() with { ModelId = added });
        run.AssertCompleted();
        Assert.Equal("gpt-4.1", run.Route!.UpstreamModelId);
    }

    [Fact]
    public async Task A_model_the_provider_does_not_serve_fails_once_without_retrying_other_keys()
    {
        string a = NewSecret("a"), b = NewSecret("b");
        var seeded = await app.SeedAsync([a, b], modelId: "no-such-model-anywhere");
        var run = await app.Router.RunAsync(seeded.Ask());
        Assert.Equal(RouterError.ModelUnavailable, run.RouterError.Error);
        Assert.Equal(1, app.Mock.State.CountFor(a) + app.Mock.State.CountFor(b));
    }

    [Fact]
    public async Task An_empty_conversation_is_an_invalid_request()
    {
        var seeded = await app.SeedAsync([NewSecret()]);
        var run = await app.Router.RunAsync(seeded.Ask() with { Messages = [] });
        Assert.Equal(RouterError.InvalidRequest, run.RouterError.Error);
    }
}
