using System.Net;
using System.Text.RegularExpressions;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Upstream.Usage;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Api;

/// <summary>Budgets set on the account pages, and each token's usage shown to its owner and to admins.</summary>
public sealed partial class TokenUsagePageTests(ApiTestApp app) : IClassFixture<ApiTestApp>
{
    [GeneratedRegex("data-testid=\"new-token-secret\" value=\"([^\"]+)\"")]
    private static partial Regex SecretOnPage();

    [Fact]
    public async Task A_budget_set_when_creating_the_token_is_stored_and_enforced()
    {
        var user = await app.UserAsync();
        var created = await user.Http.PostFormAsync("/Account/Tokens", new Dictionary<string, string>
        {
            ["Input.Name"] = "budgeted", ["Input.BudgetUsd"] = "0.000001", ["Input.BudgetTokens"] = "500000",
        }, "/Account/Tokens?handler=Create");
        var secret = SecretOnPage().Match(await created.Content.ReadAsStringAsync()).Groups[1].Value;
        var row = await app.QueryAsync(db => db.ApiTokens.AsNoTracking().SingleAsync(t => t.UserId == user.UserId));
        Assert.Equal(0.000001m, row.MonthlyBudgetUsd);
        Assert.Equal(500_000, row.MonthlyTokenBudget);

        var api = app.Api(secret);
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat("cheap/gpt-4.1", "hi mock:tokens=3"))).StatusCode);
        await (await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat("cheap/gpt-4.1", "hi"))).ErrorAsync(429);
    }

    [Fact]
    public async Task An_invalid_budget_is_refused_with_a_message_and_creates_nothing()
    {
        var user = await app.UserAsync();
        var response = await user.Http.PostFormAsync("/Account/Tokens", new Dictionary<string, string>
        {
            ["Input.Name"] = "bad budget", ["Input.BudgetUsd"] = "-3",
        }, "/Account/Tokens?handler=Create");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("monthly budget in USD", await response.Content.ReadAsStringAsync());
        Assert.False(await app.QueryAsync(db => db.ApiTokens.AnyAsync(t => t.UserId == user.UserId)));
    }

    [Fact]
    public async Task The_token_page_lists_its_requests_and_this_months_use_against_the_budget()
    {
        var user = await app.UserAsync();
        var (secret, id) = await app.TokenAsync(user, budgetUsd: 5m);
        var api = app.Api(secret);
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat("cheap/gpt-4.1", "priced mock:tokens=4"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "unpriced mock:tokens=2 mock:fault=usage_missing"))).StatusCode);
        await app.Services.GetRequiredService<UsageRecorder>().FlushAsync();
        var rows = await app.QueryAsync(db => db.Usage.AsNoTracking().Where(u => u.ApiTokenId == id).ToListAsync());
        Assert.Equal(2, rows.Count);

        var page = WebUtility.HtmlDecode(await user.Http.GetStringAsync($"/Account/Tokens/{id}"));
        Assert.Contains("cheap/gpt-4.1", page);
        Assert.Contains("mock/gpt-4o-mini", page);
        Assert.Contains("estimated", page); // the reply without usage
        var month = new TokenMonth(2, rows.Sum(r => (long)r.PromptTokens + r.CompletionTokens), rows.Sum(r => r.CostUsd ?? 0m));
        Assert.Contains(month.Describe(5m, null), page);
        Assert.Contains("of 5.00 USD", page);
        Assert.Contains(month.Describe(5m, null), WebUtility.HtmlDecode(await user.Http.GetStringAsync("/Account/Tokens")));

        var other = await app.UserAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.GetAsync($"/Account/Tokens/{id}")).StatusCode);

        var admin = await app.UserAsync();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            await users.AddToRoleAsync((await users.FindByIdAsync(admin.UserId))!, AccountExtensions.AdminRole);
        }
        Assert.Contains(month.Describe(5m, null), WebUtility.HtmlDecode(await admin.Http.GetStringAsync("/Admin/Tokens?q=" + user.Email)));
    }

    [Fact]
    public async Task The_owner_changes_a_budget_and_the_next_request_obeys_it()
    {
        var user = await app.UserAsync();
        var (secret, id) = await app.TokenAsync(user);
        var api = app.Api(secret);
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi mock:tokens=3"))).StatusCode);
        await app.Services.GetRequiredService<UsageRecorder>().FlushAsync();

        var saved = await user.Http.PostFormAsync($"/Account/Tokens/{id}", new Dictionary<string, string> { ["Input.BudgetTokens"] = "1" },
            $"/Account/Tokens/{id}?handler=Budget");
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Equal(1, await app.QueryAsync(db => db.ApiTokens.Where(t => t.Id == id).Select(t => t.MonthlyTokenBudget).SingleAsync()));
        Assert.True(await app.QueryAsync(db => db.AuditLog.AnyAsync(a => a.Action == "token.budget" && a.EntityId == id.ToString())));

        var error = await (await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi"))).ErrorAsync(429);
        Assert.Contains("monthly budget of 1 tokens", error.GetProperty("message").GetString());

        var other = await app.UserAsync();
        var foreign = await other.Http.PostFormAsync("/Account/Tokens", new Dictionary<string, string> { ["Input.BudgetTokens"] = "1000" },
            $"/Account/Tokens/{id}?handler=Budget");
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        Assert.Equal(1, await app.QueryAsync(db => db.ApiTokens.Where(t => t.Id == id).Select(t => t.MonthlyTokenBudget).SingleAsync()));
    }
}
