extern alias AnthropicSdk;
using System.Net.Http.Headers;
using System.Text.Json;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Security;
using AnthropicSdk::Anthropic;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Api;

/// <summary>
/// <see cref="ApiTestApp"/> plus an Anthropic-standard provider "claude" (the mock's Anthropic root) serving
/// claude-sonnet-4-5 to the free tier, so each /v1/messages test runs against both kinds of upstream:
/// <see cref="Native"/> (the caller's body passes through) and <see cref="Translated"/> (built for OpenAI).
/// </summary>
public sealed class MessagesTestApp : ApiTestApp
{
    public const string Native = "claude/claude-sonnet-4-5";
    public const string Translated = "mock/gpt-4o-mini";

    readonly Lazy<Task> _claude;

    public MessagesTestApp() => _claude = new(SeedClaudeAsync);

    async Task SeedClaudeAsync()
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var provider = await SeedProviderAsync(db, scope.ServiceProvider.GetRequiredService<SecretBox>(), "claude", "Claude", Mock.AnthropicUrl, kind: ProviderKind.Direct);
        provider.ApiStandard = ApiStandard.Anthropic;
        await db.SaveChangesAsync();
        await AddModelAsync(db, provider, "claude-sonnet-4-5", "Claude Sonnet 4.5", Tier.Free);
        await scope.ServiceProvider.GetRequiredService<CatalogCache>().InvalidateAsync();
    }

    /// <summary>A new user with a token (the Anthropic provider seeded first).</summary>
    public async Task<string> SecretAsync(string? allowed = null, int? rpm = null, Tier tier = Tier.Free)
    {
        await _claude.Value;
        var user = await UserAsync(tier);
        return (await TokenAsync(user, allowed, rpm)).Secret;
    }

    /// <summary>The official Anthropic client, talking to the test server with an API token as its key.</summary>
    public AnthropicClient Anthropic(string secret) => new()
    {
        ApiKey = secret,
        BaseUrl = Server.BaseAddress.ToString().TrimEnd('/'),
        HttpClient = CreateClient(),
        MaxRetries = 0,
    };

    /// <summary>An HttpClient sending what Anthropic's SDKs send: x-api-key and anthropic-version.</summary>
    public HttpClient Messages(string? secret)
    {
        var client = CreateClient();
        if (secret is not null) client.DefaultRequestHeaders.Add("x-api-key", secret);
        client.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    /// <summary>The one request the mock received whose body contains <paramref name="marker"/>.</summary>
    public ReceivedRequest Upstream(string marker) =>
        Assert.Single(Mock.State.Received, r => r.Method == "POST" && r.Body.Contains(marker, StringComparison.Ordinal));

    public static StringContent Message(string model, string text, bool stream = false, string extra = "") =>
        Json($$"""{"model":{{JsonSerializer.Serialize(model)}},"max_tokens":200,"messages":[{"role":"user","content":{{JsonSerializer.Serialize(text)}}}],"stream":{{(stream ? "true" : "false")}}{{extra}}}""");
}

public static class AnthropicResponses
{
    /// <summary>Asserts Anthropic's error shape, <c>{"type":"error","error":{"type","message"}}</c>, and returns the error object.</summary>
    public static async Task<JsonElement> AnthropicErrorAsync(this HttpResponseMessage response, int status, string type)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString());
        using var doc = JsonDocument.Parse(body);
        Assert.Equal("error", doc.RootElement.GetProperty("type").GetString());
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        return error.Clone();
    }

    /// <summary>An SSE body as (event, data) pairs.</summary>
    public static List<(string Event, JsonElement Data)> Events(string body) =>
        body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(frame =>
        {
            var lines = frame.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0]);
            Assert.StartsWith("data: ", lines[1]);
            return (lines[0]["event: ".Length..], JsonDocument.Parse(lines[1]["data: ".Length..]).RootElement.Clone());
        }).ToList();
}
