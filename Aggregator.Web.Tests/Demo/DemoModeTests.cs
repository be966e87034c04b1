using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Demo;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Demo;

public sealed class DemoAppFactory : AppFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Demo:Enabled"] = "true",
        ["Demo:BaseUrl"] = "http://127.0.0.1:5999/",
        ["Demo:MockUpstream:TokensPerSecond"] = "0",
        ["Demo:MockUpstream:FirstTokenDelay"] = "00:00:00",
        ["Sync:SchedulerEnabled"] = "false",
    };
}

public class DemoModeTests(DemoAppFactory app) : IClassFixture<DemoAppFactory>
{
    [Fact]
    public async Task Start_up_seeds_one_demo_provider_with_one_encrypted_key()
    {
        var (provider, secret) = await DemoProviderAsync();

        Assert.Equal("Demo", provider.DisplayName);
        Assert.True(provider.IsDemo);
        Assert.Equal(ProviderKind.Aggregator, provider.Kind);
        Assert.Equal(ApiStandard.OpenAI, provider.ApiStandard);
        Assert.Equal("http://127.0.0.1:5999/demo-upstream/openrouter/api/v1", provider.BaseUrl);
        var key = Assert.Single(provider.Keys);
        Assert.StartsWith("sk-demo-", secret);
        Assert.DoesNotContain(secret, key.EncryptedSecret);
        Assert.Equal(SecretBox.Mask(secret), key.MaskedHint);
        Assert.Equal(app.Services.GetRequiredService<SecretBox>().Fingerprint(secret), key.SecretFingerprint);
    }

    [Fact]
    public async Task Seeding_again_changes_nothing()
    {
        var (before, _) = await DemoProviderAsync();
        var seeder = app.Services.GetRequiredService<DemoSeeder>();

        await seeder.StartedAsync(CancellationToken.None);
        await seeder.StartedAsync(CancellationToken.None);

        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var demo = await db.Providers.Include(p => p.Keys).Where(p => p.IsDemo).ToListAsync();
        Assert.Equal(before.Id, Assert.Single(demo).Id);
        Assert.Equal(before.Keys.Single().Id, Assert.Single(demo[0].Keys).Id);
    }

    [Fact]
    public async Task Demo_upstream_answers_the_demo_key_without_a_login()
    {
        var (_, secret) = await DemoProviderAsync();
        var client = app.CreateClient(new() { AllowAutoRedirect = false });

        using var list = new HttpRequestMessage(HttpMethod.Get, "/demo-upstream/openrouter/api/v1/models");
        list.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        var listResponse = await client.SendAsync(list);
        Assert.Equal(HttpStatusCode.OK, listResponse.StatusCode);
        var models = JsonNode.Parse(await listResponse.Content.ReadAsStringAsync())!["data"]!.AsArray();
        Assert.Contains(models, m => (string?)m!["id"] == "openai/gpt-4o");

        using var chat = new HttpRequestMessage(HttpMethod.Post, "/demo-upstream/openrouter/api/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"openai/gpt-4o","stream":true,"messages":[{"role":"user","content":"Hi demo"}]}""", Encoding.UTF8, "application/json"),
        };
        chat.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        var chatResponse = await client.SendAsync(chat);
        Assert.Equal(HttpStatusCode.OK, chatResponse.StatusCode);
        var events = new List<System.Net.ServerSentEvents.SseItem<string>>();
        await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(await chatResponse.Content.ReadAsStreamAsync()).EnumerateAsync())
            events.Add(item);
        Assert.Equal("[DONE]", events[^1].Data);
        var content = string.Concat(events.Where(e => e.Data != "[DONE]")
            .Select(e => JsonNode.Parse(e.Data)!["choices"] is JsonArray { Count: > 0 } c ? (string?)c[0]!["delta"]?["content"] ?? "" : ""));
        Assert.StartsWith("You said: \"Hi demo\"", content);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sk-someone-elses-key-1234")]
    public async Task Demo_upstream_refuses_any_other_key(string? key)
    {
        var client = app.CreateClient(new() { AllowAutoRedirect = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/demo-upstream/openai/v1/models");
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_api_key", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["code"]);
    }

    async Task<(Provider Provider, string Secret)> DemoProviderAsync()
    {
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var provider = await db.Providers.Include(p => p.Keys).SingleAsync(p => p.Name == DemoExtensions.ProviderName);
        return (provider, scope.ServiceProvider.GetRequiredService<SecretBox>().Decrypt(provider.Keys.Single().EncryptedSecret));
    }
}

public class DemoModeOffTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task Without_demo_mode_there_is_no_demo_provider_and_no_demo_upstream()
    {
        var client = app.CreateClient(new() { AllowAutoRedirect = false });
        var response = await client.GetAsync("/demo-upstream/openai/v1/models");

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        using var scope = app.Services.CreateScope();
        Assert.False(await scope.ServiceProvider.GetRequiredService<AppDbContext>().Providers.AnyAsync(p => p.IsDemo));
    }
}
