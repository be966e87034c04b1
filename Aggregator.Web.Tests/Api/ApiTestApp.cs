using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Api;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Chats;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;

namespace Aggregator.Web.Tests.Api;

/// <summary>
/// The chat test app (mock provider "mock": gpt-4o-mini free, gpt-4o pro, gpt-secret hidden) plus two
/// providers serving the same ids for bare-id resolution: "cheap" (aggregator) and "direct" (direct),
/// gpt-4o-mini at the same price on both, gpt-4.1 cheaper on the aggregator.
/// </summary>
public class ApiTestApp : ChatTestApp, IAsyncLifetime
{
    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var secrets = scope.ServiceProvider.GetRequiredService<SecretBox>();
        var cheap = await SeedProviderAsync(db, secrets, "cheap", "Cheap Aggregator", Mock.OpenAIUrl);
        var direct = await SeedProviderAsync(db, secrets, "direct", "Direct AI", Mock.OpenAIUrl, kind: ProviderKind.Direct);
        await PricedAsync(db, cheap, "gpt-4o-mini", 0.5m);
        await PricedAsync(db, direct, "gpt-4o-mini", 0.5m);
        await PricedAsync(db, cheap, "gpt-4.1", 1m);
        await PricedAsync(db, direct, "gpt-4.1", 3m);
        await scope.ServiceProvider.GetRequiredService<CatalogCache>().InvalidateAsync();
    }

    static async Task PricedAsync(AppDbContext db, Provider provider, string modelId, decimal price)
    {
        var model = await AddModelAsync(db, provider, modelId, modelId, Tier.Free);
        model.InputPricePerMTok = price;
        model.OutputPricePerMTok = price;
        await db.SaveChangesAsync();
    }

    /// <summary>A token for <paramref name="user"/> stored as the account page stores it (hash only).</summary>
    public Task<(string Secret, long Id)> TokenAsync(ChatUser user, string? allowed = null, int? rpm = null, DateTime? expires = null,
        decimal? budgetUsd = null, long? budgetTokens = null) => TokenAsync(user.UserId, allowed, rpm, expires, budgetUsd, budgetTokens);

    public async Task<(string Secret, long Id)> TokenAsync(string userId, string? allowed = null, int? rpm = null, DateTime? expires = null,
        decimal? budgetUsd = null, long? budgetTokens = null)
    {
        var secret = TokenSecrets.Generate();
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var token = new ApiToken
        {
            UserId = userId, Name = "test", Prefix = TokenSecrets.PrefixOf(secret), SecretHash = TokenSecrets.Hash(secret),
            AllowedModels = ModelAllowList.Parse(allowed).Stored, RequestsPerMinute = rpm, ExpiresAt = expires,
            MonthlyBudgetUsd = budgetUsd, MonthlyTokenBudget = budgetTokens,
        };
        db.ApiTokens.Add(token);
        await db.SaveChangesAsync();
        return (secret, token.Id);
    }

    public HttpClient Api(string? secret)
    {
        var client = CreateClient();
        if (secret is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return client;
    }

    /// <summary>The official OpenAI client, talking to the test server.</summary>
    public OpenAIClient OpenAI(string secret) => new(new ApiKeyCredential(secret), new OpenAIClientOptions
    {
        Endpoint = new Uri(Server.BaseAddress, "v1"),
        Transport = new HttpClientPipelineTransport(CreateClient()),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    });

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static StringContent Chat(string model, string text, bool stream = false, string extra = "") =>
        Json($$"""{"model":{{JsonSerializer.Serialize(model)}},"messages":[{"role":"user","content":{{JsonSerializer.Serialize(text)}}}],"stream":{{(stream ? "true" : "false")}}{{extra}}}""");
}

public static class ApiResponses
{
    /// <summary>Asserts OpenAI's error shape and returns the error object.</summary>
    public static async Task<JsonElement> ErrorAsync(this HttpResponseMessage response, int status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString());
        using var doc = JsonDocument.Parse(body);
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.True(error.TryGetProperty("param", out _), "error.param present");
        Assert.True(error.TryGetProperty("code", out _), "error.code present");
        return error.Clone();
    }
}
