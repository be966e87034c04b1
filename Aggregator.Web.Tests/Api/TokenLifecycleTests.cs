using System.Net;
using System.Text.RegularExpressions;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Aggregator.Web.Features.Api;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Api;

/// <summary>Tokens through the account and admin pages, and a token following its owner at once.</summary>
public sealed partial class TokenLifecycleTests(ApiTestApp app) : IClassFixture<ApiTestApp>
{
    [GeneratedRegex("data-testid=\"new-token-secret\" value=\"([^\"]+)\"")]
    private static partial Regex SecretOnPage();

    static async Task<string> CreateOnPageAsync(HttpClient browser, string name, string? allowed = null)
    {
        var response = await browser.PostFormAsync("/Account/Tokens", new Dictionary<string, string>
        {
            ["Input.Name"] = name, ["Input.AllowedModels"] = allowed ?? "", ["Input.ExpiresInDays"] = "30", ["Input.RequestsPerMinute"] = "",
        }, "/Account/Tokens?handler=Create");
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return SecretOnPage().Match(html) is { Success: true } m ? m.Groups[1].Value : throw new Xunit.Sdk.XunitException("no secret on the page: " + html);
    }

    [Fact]
    public async Task The_account_page_shows_the_secret_once_and_stores_only_its_hash_with_an_audit_entry()
    {
        var user = await app.UserAsync();
        var secret = await CreateOnPageAsync(user.Http, "my laptop", "mock/*");
        Assert.Matches("^agg-[A-Za-z0-9_-]{43}$", secret);

        var row = await app.QueryAsync(db => db.ApiTokens.AsNoTracking().SingleAsync(t => t.UserId == user.UserId));
        Assert.Equal(TokenSecrets.Hash(secret), row.SecretHash);
        Assert.Equal(secret[..12], row.Prefix);
        Assert.Equal("mock/*", row.AllowedModels);
        Assert.True(row.ExpiresAt > DateTime.UtcNow.AddDays(29));
        var audit = await app.QueryAsync(db => db.AuditLog.AsNoTracking().SingleAsync(a => a.Action == "token.create" && a.ActorId == user.UserId));
        Assert.Equal(row.Id.ToString(), audit.EntityId);
        Assert.DoesNotContain(secret, audit.Details);

        var later = await user.Http.GetStringAsync("/Account/Tokens");
        Assert.Contains("my laptop", later);
        Assert.Contains(row.Prefix, later);
        Assert.DoesNotContain(secret, later); // shown once
        Assert.Contains("/v1", later);

        Assert.Equal(HttpStatusCode.OK, (await app.Api(secret).PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi mock:tokens=2"))).StatusCode);
    }

    [Fact]
    public async Task A_token_revoked_on_the_page_is_refused_on_the_next_request()
    {
        var user = await app.UserAsync();
        var secret = await CreateOnPageAsync(user.Http, "to revoke");
        var api = app.Api(secret);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/v1/models")).StatusCode); // cached as valid now
        var id = await app.QueryAsync(db => db.ApiTokens.Where(t => t.UserId == user.UserId).Select(t => t.Id).SingleAsync());

        var revoked = await user.Http.PostFormAsync("/Account/Tokens", new Dictionary<string, string> { ["id"] = id.ToString() }, "/Account/Tokens?handler=Revoke");
        Assert.Equal(HttpStatusCode.Redirect, revoked.StatusCode);

        var error = await (await api.GetAsync("/v1/models")).ErrorAsync(401);
        Assert.Contains("revoked", error.GetProperty("message").GetString());
        Assert.NotNull(await app.QueryAsync(db => db.ApiTokens.Where(t => t.Id == id).Select(t => t.RevokedAt).SingleAsync()));
        Assert.True(await app.QueryAsync(db => db.AuditLog.AnyAsync(a => a.Action == "token.revoke" && a.EntityId == id.ToString())));
    }

    [Fact]
    public async Task Another_users_token_cannot_be_revoked_from_the_account_page()
    {
        var owner = await app.UserAsync();
        var (secret, id) = await app.TokenAsync(owner);
        var other = await app.UserAsync();
        var attempt = await other.Http.PostFormAsync("/Account/Tokens", new Dictionary<string, string> { ["id"] = id.ToString() }, "/Account/Tokens?handler=Revoke");
        Assert.Equal(HttpStatusCode.NotFound, attempt.StatusCode);
        Assert.Null(await app.QueryAsync(db => db.ApiTokens.Where(t => t.Id == id).Select(t => t.RevokedAt).SingleAsync()));
        Assert.Equal(HttpStatusCode.OK, (await app.Api(secret).GetAsync("/v1/models")).StatusCode);
    }

    [Fact]
    public async Task The_admin_page_lists_every_users_tokens_without_secret_or_hash_and_revokes_any()
    {
        var owner = await app.UserAsync();
        var (secret, id) = await app.TokenAsync(owner);
        var admin = await app.UserAsync();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            await users.AddToRoleAsync((await users.FindByIdAsync(admin.UserId))!, AccountExtensions.AdminRole);
        }
        var page = await admin.Http.GetStringAsync("/Admin/Tokens?q=" + owner.Email);
        var hash = TokenSecrets.Hash(secret);
        Assert.Contains(owner.Email, page);
        Assert.Contains(TokenSecrets.PrefixOf(secret), page);
        Assert.DoesNotContain(secret, page);
        Assert.DoesNotContain(hash, page);
        Assert.Equal(HttpStatusCode.Forbidden, (await owner.Http.GetAsync("/Admin/Tokens")).StatusCode);

        var revoked = await admin.Http.PostFormAsync("/Admin/Tokens", new Dictionary<string, string> { ["id"] = id.ToString() }, "/Admin/Tokens?handler=Revoke");
        Assert.Equal(HttpStatusCode.Redirect, revoked.StatusCode);
        await (await app.Api(secret).GetAsync("/v1/models")).ErrorAsync(401);
        var audit = await app.QueryAsync(db => db.AuditLog.AsNoTracking().SingleAsync(a => a.Action == "token.revoke" && a.EntityId == id.ToString()));
        Assert.Equal(admin.UserId, audit.ActorId);
    }

    [Fact]
    public async Task A_downgraded_owner_loses_the_pro_models_at_once()
    {
        var user = await app.UserAsync(Tier.Pro);
        var (secret, _) = await app.TokenAsync(user);
        var api = app.Api(secret);
        Assert.Contains("mock/gpt-4o\"", await api.GetStringAsync("/v1/models"));
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o", "hi mock:tokens=1"))).StatusCode);

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var entity = (await users.FindByIdAsync(user.UserId))!;
            entity.Tier = Tier.Free;
            await users.UpdateAsync(entity);
        }

        Assert.DoesNotContain("mock/gpt-4o\"", await api.GetStringAsync("/v1/models"));
        await (await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o", "hi"))).ErrorAsync(403);
    }

    [Fact]
    public async Task A_locked_or_deleted_owner_makes_the_token_useless()
    {
        var locked = await app.UserAsync();
        var (lockedSecret, _) = await app.TokenAsync(locked);
        var deleted = await app.UserAsync();
        var (deletedSecret, deletedId) = await app.TokenAsync(deleted);
        Assert.Equal(HttpStatusCode.OK, (await app.Api(lockedSecret).GetAsync("/v1/models")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Api(deletedSecret).GetAsync("/v1/models")).StatusCode);

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            await users.SetLockoutEndDateAsync((await users.FindByIdAsync(locked.UserId))!, DateTimeOffset.UtcNow.AddHours(1));
            await users.DeleteAsync((await users.FindByIdAsync(deleted.UserId))!);
        }

        // Lockout is not a tracked tier/role change: it is seen within the cache's one second.
        var error = await Eventually.Until(() => app.Api(lockedSecret).GetAsync("/v1/models"), r => r.StatusCode == HttpStatusCode.Unauthorized,
            "locked owner refused", TimeSpan.FromSeconds(5));
        Assert.Contains("locked", (await error.ErrorAsync(401)).GetProperty("message").GetString());
        await (await app.Api(deletedSecret).GetAsync("/v1/models")).ErrorAsync(401);
        Assert.False(await app.QueryAsync(db => db.ApiTokens.AnyAsync(t => t.Id == deletedId))); // cascade
    }

    [Fact]
    public async Task Last_used_is_written_in_batches()
    {
        var user = await app.UserAsync();
        var (secret, id) = await app.TokenAsync(user);
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await app.Api(secret).GetAsync("/v1/models")).StatusCode);
        Assert.Null(await app.QueryAsync(db => db.ApiTokens.Where(t => t.Id == id).Select(t => t.LastUsedAt).SingleAsync()));

        await app.Services.GetRequiredService<TokenUsageWriter>().FlushAsync();

        var lastUsed = await app.QueryAsync(db => db.ApiTokens.Where(t => t.Id == id).Select(t => t.LastUsedAt).SingleAsync());
        Assert.NotNull(lastUsed);
        Assert.True(lastUsed > DateTime.UtcNow.AddMinutes(-1));
    }
}
