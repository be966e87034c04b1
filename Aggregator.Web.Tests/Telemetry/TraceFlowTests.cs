using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Aggregator.Web.Data;
using Aggregator.Web.Tests.Api;

namespace Aggregator.Web.Tests.Telemetry;

/// <summary>
/// One trace from the hub call or the /v1 request to the upstream request (the mock's recorded <c>traceparent</c>),
/// and its id as the "reference" in the errors a user sees.
/// </summary>
public sealed class TraceFlowTests(TelemetryTestApp app) : IClassFixture<TelemetryTestApp>
{
    static readonly ActivitySource TestSource = new("Aggregator.Tests.Telemetry");

    [Fact]
    public async Task A_hub_send_and_its_upstream_request_are_one_trace()
    {
        // The SignalR client propagates the caller's trace into the hub invocation, as a browser's page would be its root.
        using var listener = Listen(TestSource.Name, "Microsoft.AspNetCore.SignalR.Client");
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var marker = Guid.NewGuid().ToString("N");

        string traceId;
        using (var caller = TestSource.StartActivity("user sends"))
        {
            Assert.NotNull(caller);
            traceId = caller.TraceId.ToHexString();
            var sent = await chat.SendAsync(app.FreeModelId, $"trace {marker} mock:tokens=5");
            await chat.CompletedAsync(sent.AssistantMessageId);
        }

        Assert.Equal(traceId, await app.UpstreamTraceIdAsync(marker));
    }

    [Fact]
    public async Task A_failed_reply_carries_the_reference_of_the_trace_that_reached_the_provider()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var marker = Guid.NewGuid().ToString("N");

        var sent = await chat.SendAsync(app.FreeModelId, $"fail {marker} mock:fault=404");
        var reply = await app.FinishedAsync(sent.AssistantMessageId);

        Assert.Equal(MessageStatus.Failed, reply.Status);
        var traceId = await app.UpstreamTraceIdAsync(marker);
        Assert.EndsWith($"(reference: {traceId})", reply.Error);
        // The admin finds the failure's log lines by the same id.
        Assert.Contains(app.Logs.Lines, l => l.Contains($"Generation {sent.AssistantMessageId} failed") && l.Contains($"TraceId:{traceId}"));
    }

    [Fact]
    public async Task An_api_error_says_its_reference_inside_the_message_of_both_error_shapes()
    {
        var user = await app.UserAsync();
        var (secret, _) = await app.TokenAsync(user);
        using var api = app.Api(secret);

        var marker = Guid.NewGuid().ToString("N");
        using var openAI = await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", $"fail {marker} mock:fault=404"));
        Assert.False(openAI.IsSuccessStatusCode);
        var error = await openAI.ErrorAsync((int)openAI.StatusCode);
        Assert.EndsWith($"(reference: {await app.UpstreamTraceIdAsync(marker)})", error.GetProperty("message").GetString());

        var anthropicMarker = Guid.NewGuid().ToString("N");
        using var anthropic = await api.PostAsync("/v1/messages", ApiTestApp.Json(JsonSerializer.Serialize(new
        {
            model = "mock/gpt-4o-mini", max_tokens = 50,
            messages = new[] { new { role = "user", content = $"fail {anthropicMarker} mock:fault=404" } },
        })));
        Assert.False(anthropic.IsSuccessStatusCode);
        using var body = JsonDocument.Parse(await anthropic.Content.ReadAsStringAsync());
        Assert.Equal("error", body.RootElement.GetProperty("type").GetString()); // the shape the Anthropic SDK parses, unchanged
        Assert.Equal(["type", "error"], body.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.EndsWith($"(reference: {await app.UpstreamTraceIdAsync(anthropicMarker)})",
            body.RootElement.GetProperty("error").GetProperty("message").GetString());

        // A refusal before any upstream call has a reference too (of its own request's trace).
        using var unknown = await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat("no-such-model", "hello"));
        Assert.Matches(@"\(reference: [0-9a-f]{32}\)$", (await unknown.ErrorAsync(404)).GetProperty("message").GetString());
    }

    static ActivityListener Listen(params string[] sources)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => sources.Contains(s.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
