using System.Net;
using System.Net.Http.Headers;
using Aggregator.Web.Tests.Api;

namespace Aggregator.Web.Tests.Telemetry;

/// <summary>/metrics: who may read it, and the GenAI series a chat and an API call leave in it.</summary>
public sealed class MetricsEndpointTests(TelemetryTestApp app) : IClassFixture<TelemetryTestApp>
{
    [Fact]
    public async Task Metrics_need_the_scrape_token_or_an_admin_and_refuse_everyone_else_with_a_bare_401()
    {
        using var anonymous = app.CreateClient(new() { AllowAutoRedirect = false });
        using var none = await anonymous.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode); // not a redirect to the login page
        Assert.Null(none.Headers.Location);
        Assert.DoesNotContain("<html", await none.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", app.ScrapeToken + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(wrong)).StatusCode);

        var user = await app.UserAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await user.Http.GetAsync("/metrics")).StatusCode); // signed in, not an admin

        var admin = await app.AdminAsync();
        using var asAdmin = await admin.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, asAdmin.StatusCode);
        Assert.Contains("no-store", asAdmin.Headers.CacheControl?.ToString());

        using var token = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        token.Headers.Authorization = new AuthenticationHeaderValue("Bearer", app.ScrapeToken);
        using var scraped = await anonymous.SendAsync(token);
        Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        Assert.True(scraped.Headers.CacheControl?.NoStore, "never stored by a proxy");
    }

    [Fact]
    public async Task A_chat_and_an_api_call_leave_GenAI_series_labelled_with_their_model_and_provider()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        var sent = await chat.SendAsync(app.FreeModelId, "metrics please mock:tokens=12");
        await chat.CompletedAsync(sent.AssistantMessageId);

        var (secret, _) = await app.TokenAsync(user);
        using var api = app.Api(secret);
        using var completion = await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat("cheap/gpt-4.1", "metrics from the API mock:tokens=7"));
        Assert.Equal(HttpStatusCode.OK, completion.StatusCode);

        static Func<string, bool> Series(string name, string provider, string model, string? extra = null) => line =>
            line.StartsWith(name + "{", StringComparison.Ordinal)
            && line.Contains($"gen_ai_provider_name=\"{provider}\"") && line.Contains($"gen_ai_request_model=\"{model}\"")
            && line.Contains("gen_ai_operation_name=\"chat\"") && (extra is null || line.Contains(extra));

        var text = await app.ScrapeUntilAsync(
            Series("gen_ai_client_operation_duration_seconds_count", "mock", "gpt-4o-mini"),
            Series("gen_ai_client_operation_duration_seconds_count", "cheap", "gpt-4.1"),
            Series("gen_ai_client_token_usage_sum", "mock", "gpt-4o-mini", "gen_ai_token_type=\"output\""),
            Series("gen_ai_client_token_usage_sum", "cheap", "gpt-4.1", "gen_ai_token_type=\"input\""),
            Series("gen_ai_server_time_to_first_token_seconds_bucket", "mock", "gpt-4o-mini"),
            Series("gen_ai_server_time_to_first_token_seconds_bucket", "cheap", "gpt-4.1"));

        // The sums are the usage: the mock streamed exactly 12 output tokens for the chat (at least; other tests add theirs).
        var output = text.Split('\n').First(Series("gen_ai_client_token_usage_sum", "mock", "gpt-4o-mini", "gen_ai_token_type=\"output\""));
        Assert.True(double.Parse(output[(output.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) >= 12, output);
        Assert.Contains(text.Split('\n'), l => l.StartsWith("aggregator_gateway_overhead_seconds_count{", StringComparison.Ordinal));
        Assert.Contains(text.Split('\n'), l => l.StartsWith("aggregator_keys{", StringComparison.Ordinal) && l.Contains("aggregator_key_state=\"active\""));
        Assert.Contains(text.Split('\n'), l => l.StartsWith("aggregator_catalog_cache_lookups", StringComparison.Ordinal) && l.Contains("result=\"miss\""));
        Assert.Contains(text.Split('\n'), l => l.StartsWith("aggregator_generations_active", StringComparison.Ordinal));
        Assert.Contains(text.Split('\n'), l => l.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)); // ASP.NET Core's own
    }
}
