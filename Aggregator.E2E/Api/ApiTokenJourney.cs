using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Aggregator.E2E.Chat;
using Aggregator.E2E.Infrastructure;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Api;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aggregator.E2E.Api;

[Collection(BrowserCollection.Name)]
public sealed class ApiTokenJourney(BrowserFixture browser, ChatKestrelApp app) : BrowserTest(browser, app), IClassFixture<ChatKestrelApp>
{
    async Task<HttpResponseMessage> ChatAsync(string secret)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, app.Url("/v1/chat/completions"))
        {
            Content = new StringContent("""{"model":"mockhub/gpt-4o-mini","messages":[{"role":"user","content":"hello from a script mock:tokens=4"}]}""",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        var response = await http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    async Task<UsageRecord?> UsageRowAsync(long tokenId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.Usage.AsNoTracking().SingleOrDefaultAsync(u => u.ApiTokenId == tokenId);
    }

    async Task<ApiToken> TokenRowAsync(string email)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.ApiTokens.AsNoTracking().SingleAsync(t => t.User!.Email == email);
    }

    [Fact]
    public Task A_token_created_with_a_budget_on_the_account_page_calls_the_api_shows_its_usage_and_stops_when_revoked() => InBrowserAsync(async page =>
    {
        var email = $"api-{Guid.NewGuid():N}@example.com";
        await RegisterAsync(page, email);
        await page.GetByTestId("user-menu").ClickAsync();
        await page.GetByTestId("nav-tokens").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "API tokens", Level = 1 })).ToBeVisibleAsync();

        await page.GetByLabel("Name").FillAsync("my script");
        await page.GetByLabel("Monthly budget (USD)").FillAsync("5");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        var field = page.GetByTestId("new-token-secret");
        await Expect(field).ToBeVisibleAsync();
        var secret = await field.InputValueAsync();
        Assert.StartsWith("agg-", secret);
        await Expect(page.GetByTestId("snippet-curl")).ToContainTextAsync(app.Url("/v1/chat/completions"));
        await Expect(page.GetByTestId("snippet-python")).ToContainTextAsync(secret);
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Copied" })).ToBeVisibleAsync();
        Assert.Equal(secret, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));

        var ok = await ChatAsync(secret);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using (var reply = JsonDocument.Parse(await ok.Content.ReadAsStringAsync()))
            Assert.StartsWith("You said", reply.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        var row = await TokenRowAsync(email);
        Assert.Equal(TokenSecrets.Hash(secret), row.SecretHash);
        Assert.Equal(5m, row.MonthlyBudgetUsd);
        Assert.Null(row.RevokedAt);
        var usage = await Eventually.Until(() => UsageRowAsync(row.Id), u => u is not null, "the call's usage row");
        Assert.Equal(row.UserId, usage!.UserId);

        await page.GotoAsync("/Account/Tokens");
        await Expect(page.GetByTestId("new-token")).ToHaveCountAsync(0); // shown once
        await Expect(page.GetByTestId("token-month")).ToContainTextAsync("1 requests");
        await Expect(page.GetByTestId("token-month")).ToContainTextAsync("of 5.00 USD");
        await page.GetByTestId("token-usage-link").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "my script", Level = 1 })).ToBeVisibleAsync();
        var requests = page.GetByTestId("token-requests").Locator("tbody tr");
        await Expect(requests).ToHaveCountAsync(1);
        await Expect(requests).ToContainTextAsync("mockhub/gpt-4o-mini");
        await Expect(requests).ToContainTextAsync(usage.CompletionTokens.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(page.GetByLabel("Monthly budget (USD)")).ToHaveValueAsync("5");

        await page.GotoAsync("/Account/Tokens");
        page.Dialog += (_, dialog) => _ = dialog.AcceptAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke my script" }).ClickAsync();
        await Expect(page.GetByTestId("status")).ToContainTextAsync("revoked");
        await Expect(page.GetByTestId("token-state")).ToHaveTextAsync("revoked");

        var refused = await ChatAsync(secret);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using (var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
            Assert.Contains("revoked", error.RootElement.GetProperty("error").GetProperty("message").GetString());
        Assert.NotNull((await TokenRowAsync(email)).RevokedAt);
    }, new BrowserNewContextOptions { Permissions = ["clipboard-read", "clipboard-write"] });
}
