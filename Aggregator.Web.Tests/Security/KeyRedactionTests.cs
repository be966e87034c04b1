using Aggregator.Web.Data;
using Aggregator.Web.Features.Admin.Providers;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Router;
using Aggregator.Web.Tests.Sync;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Sync;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Security;

/// <summary>
/// A provider that echoes the key it received (whole, or in recognisable pieces) in its error text:
/// on no failure path does the key reach the caller, a chat message, a sync run, a key's disabled
/// reason, the audit log or a log line.
/// </summary>
public sealed class KeyRedactionTests(RedactionAppFactory app) : IClassFixture<RedactionAppFactory>
{
    public static TheoryData<string> Echoes => ["echo_key", "echo_key_fragment"];

    /// <summary>Letters beyond hex: no request id, trace id or GUID in the log can match a piece of it by chance.</summary>
    static string NewSecret() => "sk-leak-" + string.Concat(Enumerable.Range(0, 32).Select(_ => "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ"[Random.Shared.Next(40)]));

    [Theory]
    [MemberData(nameof(Echoes))]
    public async Task A_rejected_key_never_shows_in_the_error_the_disabled_reason_or_the_log(string echo)
    {
        var secret = NewSecret();
        app.Mock.State.SetKeyFault(secret, "401," + echo);
        var seeded = await app.SeedAsync([secret]);

        var run = await app.Router.RunAsync(seeded.Ask());

        Assert.Equal(RouterError.UpstreamFailed, run.RouterError.Error);
        Assert.Contains("rejected the API key", run.RouterError.Message);
        await app.FlushAsync();
        var key = await app.KeyRowAsync(seeded.KeyIds[0]);
        Assert.False(key.Active);
        Assert.Contains(app.Logs.Lines, l => l.Contains($"with key {seeded.KeyIds[0]} failed: 401"));
        AssertNoLeak(secret, run.RouterError.ToString(), key.DisabledReason);
    }

    [Theory]
    [InlineData("429:30")]
    [InlineData("500")]
    [InlineData("503")]
    [InlineData("insufficient_quota")]
    [InlineData("error_200")]
    public async Task A_failed_attempt_never_shows_the_key(string fault)
    {
        foreach (var echo in new[] { "echo_key", "echo_key_fragment" })
        {
            var secret = NewSecret();
            app.Mock.State.SetKeyFault(secret, $"{fault},{echo}");
            var seeded = await app.SeedAsync([secret]);

            var run = await app.Router.RunAsync(seeded.Ask());

            Assert.Equal(RouterError.UpstreamFailed, run.RouterError.Error);
            Assert.Contains("last error", run.RouterError.Message);
            await app.FlushAsync();
            AssertNoLeak(secret, run.RouterError.ToString(), (await app.KeyRowAsync(seeded.KeyIds[0])).DisabledReason);
        }
    }

    [Theory]
    [MemberData(nameof(Echoes))]
    public async Task A_timeout_then_a_gateway_timeout_body_never_shows_the_key(string echo)
    {
        string hanging = NewSecret(), gateway = NewSecret();
        app.Mock.State.SetKeyFault(hanging, "hang");
        app.Mock.State.SetKeyFault(gateway, "504:200," + echo);
        var seeded = await app.SeedAsync([hanging, gateway]);

        var run = await app.Router.RunAsync(seeded.Ask());

        Assert.Equal(RouterError.UpstreamFailed, run.RouterError.Error);
        Assert.Contains("504", run.RouterError.Message);
        Assert.Equal(1, app.Mock.State.CountFor(hanging));
        AssertNoLeak(gateway, run.RouterError.ToString());
        AssertNoLeak(hanging, run.RouterError.ToString());
    }

    [Theory]
    [MemberData(nameof(Echoes))]
    public async Task Giving_up_after_every_key_failed_never_shows_any_key(string echo)
    {
        var secrets = new[] { NewSecret(), NewSecret(), NewSecret() };
        app.Mock.State.SetKeyFault(secrets[0], "401," + echo);
        app.Mock.State.SetKeyFault(secrets[1], "500," + echo);
        app.Mock.State.SetKeyFault(secrets[2], "429:30," + echo);
        var seeded = await app.SeedAsync(secrets);

        var run = await app.Router.RunAsync(seeded.Ask());

        Assert.Equal(RouterError.UpstreamFailed, run.RouterError.Error);
        Assert.Contains("failed 3 times", run.RouterError.Message);
        Assert.All(secrets, s => Assert.Equal(1, app.Mock.State.CountFor(s)));
        await app.FlushAsync();
        foreach (var (secret, id) in secrets.Zip(seeded.KeyIds))
            AssertNoLeak(secret, run.RouterError.ToString(), (await app.KeyRowAsync(id)).DisabledReason);
    }

    [Theory]
    [InlineData(ApiStandard.OpenAI, "echo_key")]
    [InlineData(ApiStandard.OpenAI, "echo_key_fragment")]
    [InlineData(ApiStandard.Anthropic, "echo_key")]
    [InlineData(ApiStandard.Anthropic, "echo_key_fragment")]
    public async Task A_mid_stream_error_event_never_shows_the_key(ApiStandard standard, string echo)
    {
        var secret = NewSecret();
        app.Mock.State.SetKeyFault(secret, "error_event," + echo);
        var seeded = await app.SeedAsync([secret], standard, standard == ApiStandard.Anthropic ? "claude-sonnet-4-5" : "gpt-4o");

        var run = await app.Router.RunAsync(seeded.Ask());

        Assert.Equal(RouterError.Interrupted, run.RouterError.Error);
        Assert.NotEmpty(run.Text);
        await app.FlushAsync();
        AssertNoLeak(secret, run.RouterError.ToString(), (await app.KeyRowAsync(seeded.KeyIds[0])).DisabledReason);
    }

    [Theory]
    [InlineData("401", "failed")]
    [InlineData("500", "failed")]
    [InlineData("error_event", "interrupted")]
    public async Task The_chat_user_sees_and_the_message_row_stores_no_key(string fault, string status)
    {
        foreach (var echo in new[] { "echo_key", "echo_key_fragment" })
        {
            var secret = NewSecret();
            var seeded = await app.SeedAsync([secret]);
            await app.RefreshCatalogAsync();
            var user = await ChatUser.CreateAsync(app, Tier.Free);
            await using var chat = await user.ConnectAsync();

            var sent = await chat.SendAsync(seeded.ModelId, $"Hello mock:fault={fault},{echo}");
            var done = await chat.CompletedAsync(sent.AssistantMessageId);

            Assert.Equal(status, done.Status);
            Assert.False(string.IsNullOrWhiteSpace(done.Error));
            var saved = await app.DbAsync(db => db.Messages.AsNoTracking().SingleAsync(m => m.Id == sent.AssistantMessageId));
            Assert.Equal(done.Error, saved.Error);
            AssertNoLeak(secret, done.Error, saved.Error, saved.Content);
        }
    }

    [Theory]
    [InlineData(ApiStandard.OpenAI, "echo_key")]
    [InlineData(ApiStandard.OpenAI, "echo_key_fragment")]
    [InlineData(ApiStandard.Anthropic, "echo_key")]
    public async Task A_sync_rejected_with_401_stores_no_key_in_the_run_or_the_disabled_reason(ApiStandard standard, string echo)
    {
        var secret = NewSecret();
        var (provider, key) = await app.AddProviderAsync(standard == ApiStandard.Anthropic ? app.Mock.AnthropicUrl : app.Mock.OpenAIUrl,
            standard == ApiStandard.Anthropic ? ModelListShape.Anthropic : ModelListShape.OpenAI, standard, secret);
        app.Mock.State.SetKeyFault(secret, "401," + echo);

        var result = await SyncAsync(provider.Id);

        Assert.Equal(SyncOutcome.Failed, result.Outcome);
        Assert.Contains("rejected the API key", result.Run!.Error);
        var run = await app.DbAsync(db => db.SyncRuns.AsNoTracking().SingleAsync(r => r.Id == result.Run.Id));
        var stored = await app.DbAsync(db => db.ApiKeys.AsNoTracking().SingleAsync(k => k.Id == key.Id));
        Assert.False(stored.Active);
        Assert.Contains("401", stored.DisabledReason);
        AssertNoLeak(secret, result.Message, run.Error, stored.DisabledReason);
    }

    [Theory]
    [InlineData("500")]
    [InlineData("504")]
    [InlineData("error_200")]
    public async Task A_sync_that_fails_otherwise_stores_no_key(string fault)
    {
        foreach (var echo in new[] { "echo_key", "echo_key_fragment" })
        {
            var secret = NewSecret();
            var (provider, _) = await app.AddProviderAsync(app.Mock.OpenAIUrl, ModelListShape.OpenAI, secret: secret);
            app.Mock.State.SetKeyFault(secret, $"{fault},{echo}");

            var result = await SyncAsync(provider.Id);

            Assert.Equal(SyncOutcome.Failed, result.Outcome);
            var run = await app.DbAsync(db => db.SyncRuns.AsNoTracking().SingleAsync(r => r.Id == result.Run!.Id));
            Assert.False(string.IsNullOrWhiteSpace(run.Error));
            AssertNoLeak(secret, result.Message, run.Error);
        }
    }

    [Theory]
    [InlineData(ApiStandard.OpenAI, "401")]
    [InlineData(ApiStandard.OpenAI, "429")]
    [InlineData(ApiStandard.OpenAI, "504")]
    [InlineData(ApiStandard.Anthropic, "401")]
    [InlineData(ApiStandard.Anthropic, "500")]
    public async Task A_key_test_reports_the_failure_without_the_key(ApiStandard standard, string fault)
    {
        foreach (var echo in new[] { "echo_key", "echo_key_fragment" })
        {
            var secret = NewSecret();
            app.Mock.State.SetKeyFault(secret, $"{fault},{echo}");
            var seeded = await app.SeedAsync([secret], standard, standard == ApiStandard.Anthropic ? "claude-sonnet-4-5" : "gpt-4o");

            KeyTestResult? result;
            using (var scope = app.Services.CreateScope())
                result = await scope.ServiceProvider.GetRequiredService<ApiKeyService>().TestAsync(seeded.KeyIds[0], CancellationToken.None);

            Assert.NotNull(result);
            Assert.False(result.Ok);
            Assert.Equal(fault == "401" ? 401 : fault == "429" ? 429 : fault == "504" ? 504 : 500, result.Status);
            var audit = await app.DbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.Action == "key.test").Select(a => a.Details).ToListAsync());
            AssertNoLeak(secret, [result.Message, .. audit]);
        }
    }

    async Task<SyncResult> SyncAsync(int providerId)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<ModelSync>().SyncAsync(providerId, "test", CancellationToken.None);
    }

    /// <summary>Neither the texts nor any log line so far hold the key or a recognisable piece of it.</summary>
    void AssertNoLeak(string secret, params string?[] texts)
    {
        foreach (var text in texts)
            if (Leak(text, secret) is { } found) Assert.Fail($"'{found}' of the key leaked into: {text}");
        foreach (var line in app.Logs.Lines)
            if (Leak(line, secret) is { } found) Assert.Fail($"'{found}' of the key leaked into the log: {line}");
    }

    /// <summary>Any 8 characters of the key in a row, or its last 4 behind a mask (<c>…wxyz</c>, <c>***wxyz</c>, <c>...wxyz</c>).</summary>
    static string? Leak(string? text, string secret)
    {
        if (string.IsNullOrEmpty(text)) return null;
        for (var i = 0; i + 8 <= secret.Length; i++)
            if (text.Contains(secret.Substring(i, 8), StringComparison.OrdinalIgnoreCase)) return secret.Substring(i, 8);
        foreach (var mask in new[] { "…", "*", "." })
            // A mask shows the key's own case; ignoring case here once matched ".Upstream" in a log category for a key ending "UPsT".
            if (text.Contains(mask + secret[^4..], StringComparison.Ordinal)) return mask + secret[^4..];
        return null;
    }
}
