using System.Net;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Tests.Api;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Aggregator.Web.Tests.Telemetry;

/// <summary>
/// Logs that help: expected refusals are one line at most, without a stack trace; no log line and no metric ever
/// carries a provider key or a user's API token, even when the provider echoes the key in everything it sends.
/// </summary>
public sealed class LogHygieneTests(TelemetryTestApp app) : IClassFixture<TelemetryTestApp>
{
    [Fact]
    public async Task Refused_hub_calls_and_api_requests_are_one_line_without_a_stack_trace()
    {
        var owner = await app.UserAsync();
        await using var ownerChat = await owner.ConnectAsync();
        var theirs = await ownerChat.SendAsync(app.FreeModelId, "mine mock:tokens=3");
        await ownerChat.CompletedAsync(theirs.AssistantMessageId);

        var intruder = await app.UserAsync();
        await using var chat = await intruder.ConnectAsync();
        var (secret, _) = await app.TokenAsync(intruder);
        using var api = app.Api(secret);
        var before = app.Logs.Lines.Count;

        // Ownership, validation and tier refusals over the hub; a refused and an invalid /v1 request.
        var notYours = await Assert.ThrowsAsync<HubException>(() => chat.Hub.InvokeAsync(nameof(ChatHub.Rename), theirs.ConversationId, "taken"));
        var empty = await Assert.ThrowsAsync<HubException>(() => chat.SendAsync(app.FreeModelId, "   "));
        var locked = await Assert.ThrowsAsync<HubException>(() => chat.SendAsync(app.ProModelId, "pro please"));
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat("no-such-model", "hi"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PostAsync("/v1/chat/completions", ApiTestApp.Json("{\"model\":"))).StatusCode);

        var lines = app.Logs.Lines.Skip(before).ToList();
        Assert.Contains(lines, l => l.StartsWith("Information ", StringComparison.Ordinal) && l.Contains("Hub call Rename refused:"));
        Assert.Equal(2, lines.Count(l => l.StartsWith("Information ", StringComparison.Ordinal) && l.Contains("Hub call Send refused:")));
        Assert.All(new[] { notYours, empty, locked }, e => Assert.DoesNotContain("unexpected error", e.Message.Split("HubException:").Last()));
        Assert.DoesNotContain(lines, l => l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("HubException") || l.Contains("ApiException") || l.Contains("\n   at "));
    }

    [Fact]
    public async Task No_log_line_or_metric_carries_the_provider_key_or_the_users_token()
    {
        var (provider, modelId, key) = await app.HostileProviderAsync();
        var user = await app.UserAsync();
        var (token, _) = await app.TokenAsync(user);
        using var api = app.Api(token);
        await using var chat = await user.ConnectAsync();

        // A reply that is the user's token, then the provider echoing its key mid-stream and in a failure.
        var echoed = await chat.SendAsync(modelId, $"mock:reply={token}");
        await chat.CompletedAsync(echoed.AssistantMessageId);
        var midStream = await chat.SendAsync(modelId, "break mock:fault=error_event,echo_key", echoed.ConversationId);
        await app.FinishedAsync(midStream.AssistantMessageId);
        var failed = await chat.SendAsync(modelId, "fail mock:fault=500,echo_key", echoed.ConversationId);
        await app.FinishedAsync(failed.AssistantMessageId);

        // The same over /v1, and a request with a wrong token (an attacker's guess is a secret too).
        using (await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat($"{provider}/gpt-4o-mini", $"say mock:reply={token}"))) { }
        using (await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat($"{provider}/gpt-4o-mini", "fail mock:fault=503,echo_key"))) { }
        using (await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat($"{provider}/gpt-4o-mini", "x mock:fault=error_event,echo_key", stream: true))) { }
        var guessed = token[..^4] + "zzzz";
        using (var wrong = app.Api(guessed))
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi"))).StatusCode);

        await app.ScrapeUntilAsync(l => l.StartsWith("aggregator_upstream_errors_total{", StringComparison.Ordinal) && l.Contains($"gen_ai_provider_name=\"{provider}\""));
        var metrics = await app.ScrapeAsync();
        var logs = app.Logs.Lines;
        Assert.Contains(logs, l => l.Contains(provider) && l.Contains("failed")); // the failures were logged, just not the key
        foreach (var secret in new[] { key, key[8..], token, guessed, token[^12..] })
        {
            Assert.DoesNotContain(logs, l => l.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(secret, metrics, StringComparison.Ordinal);
        }
    }
}
