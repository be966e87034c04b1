using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Features.Usage;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Upstream.Usage;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Tests.Usage;

/// <summary>The chat app with a free tier of 5 messages a day and 50 requests a minute, the free model priced.</summary>
public sealed class UsagePageApp : ChatTestApp
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Quotas:Free:MessagesPerDay"] = "5", ["Quotas:Free:RequestsPerMinute"] = "50",
    };

    bool _priced;

    /// <summary>1 USD per million tokens in, 2 out: every cost is a whole number of nano-USD, so no rounding differs.</summary>
    public async Task PriceFreeModelAsync()
    {
        if (_priced) return;
        await QueryAsync(db => db.Models.Where(m => m.Id == FreeModelId)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.InputPricePerMTok, 1m).SetProperty(m => m.OutputPricePerMTok, 2m)));
        await Services.GetRequiredService<CatalogCache>().InvalidateAsync();
        _priced = true;
    }
}

public sealed partial class UsagePageTests(UsagePageApp app) : IClassFixture<UsagePageApp>
{
    static DateOnly Today => DateOnly.FromDateTime(DateTime.UtcNow);

    async Task ChatAsync(ChatConnection chat, int times)
    {
        for (var i = 0; i < times; i++)
        {
            var sent = await chat.SendAsync(app.FreeModelId, $"question {i} mock:tokens={3 + i}");
            Assert.Equal("complete", (await chat.CompletedAsync(sent.AssistantMessageId)).Status);
        }
        await app.Services.GetRequiredService<UsageRecorder>().FlushAsync();
    }

    [Fact]
    public async Task Page_figures_equal_the_callers_usage_rows_and_another_users_never_appear()
    {
        await app.PriceFreeModelAsync();
        var alice = await app.UserAsync();
        var bob = await app.UserAsync();
        await using (var chat = await alice.ConnectAsync()) await ChatAsync(chat, 3);
        await using (var chat = await bob.ConnectAsync()) await ChatAsync(chat, 1);
        // One API call of Alice's, through a token of hers with a budget.
        var tokenId = await app.QueryAsync(async db =>
        {
            var token = new ApiToken { UserId = alice.UserId, Name = "ci", Prefix = "agg-usage01", SecretHash = Guid.NewGuid().ToString("N"), MonthlyBudgetUsd = 1m };
            db.ApiTokens.Add(token);
            await db.SaveChangesAsync();
            return token.Id;
        });
        var now = DateTime.UtcNow;
        var recorder = app.Services.GetRequiredService<UsageRecorder>();
        recorder.Record(new UsageRecord
        {
            UserId = alice.UserId, ProviderId = 1, ModelId = app.FreeModelId, ApiTokenId = tokenId, Source = "api", CreatedAt = now,
            Day = DateOnly.FromDateTime(now), PromptTokens = 40, CompletionTokens = 60, CostUsd = 0.00016m,
        });
        await recorder.FlushAsync();

        foreach (var (user, other) in new[] { (alice, bob), (bob, alice) })
        {
            var rows = await app.QueryAsync(db => db.Usage.AsNoTracking().Where(u => u.UserId == user.UserId && u.Day == Today).ToListAsync());
            // A user id in the query string is no way in: the page is always the caller's.
            var html = await user.Http.GetStringAsync($"/Account/Usage?period=today&userId={other.UserId}");
            Assert.Equal(rows.Count, Value(html, "total-requests"));
            Assert.Equal(rows.Sum(r => (long)r.PromptTokens), Value(html, "total-input"));
            Assert.Equal(rows.Sum(r => (long)r.CompletionTokens), Value(html, "total-output"));
            Assert.Equal(rows.Sum(r => r.CostUsd ?? 0m), Cost(html, "total-cost"));
            Assert.True(rows.Sum(r => r.CostUsd ?? 0m) > 0, "the free model is priced");

            var model = ModelRow().Match(html);
            Assert.True(model.Success, "a per-model row for the mock's free model");
            Assert.Equal(rows.Count, long.Parse(model.Groups["requests"].Value, CultureInfo.InvariantCulture));
            Assert.Equal(rows.Sum(r => (long)r.PromptTokens + r.CompletionTokens), long.Parse(model.Groups["tokens"].Value, CultureInfo.InvariantCulture));
            var day = DayRow(html, Today);
            Assert.Equal(rows.Count, day.Requests);
        }

        var alicePage = await alice.Http.GetStringAsync("/Account/Usage?period=7d");
        var token = Regex.Match(alicePage, $"data-token=\"{tokenId}\" data-requests=\"(\\d+)\" data-tokens=\"(\\d+)\" data-cost=\"([0-9.]+)\"");
        Assert.True(token.Success, "a per-token row");
        Assert.Equal("1", token.Groups[1].Value);
        Assert.Equal("100", token.Groups[2].Value);
        Assert.Equal(0.00016m, decimal.Parse(token.Groups[3].Value, CultureInfo.InvariantCulture));
        var budget = QuotaBar(alicePage, $"budget-usd-{tokenId}");
        Assert.Equal(("0.00016", "1"), budget);
        var bobPage = await bob.Http.GetStringAsync("/Account/Usage?period=7d");
        Assert.DoesNotContain("data-token=", bobPage);
        Assert.DoesNotContain("agg-usage01", bobPage);
    }

    [Fact]
    public async Task Quota_bars_follow_the_sends_and_the_composer_summary_shows_once_the_day_is_nearly_used()
    {
        var user = await app.UserAsync();
        await using var chat = await user.ConnectAsync();
        await ChatAsync(chat, 2);
        var page = await user.Http.GetStringAsync("/Account/Usage");
        Assert.Equal(("2", "5"), QuotaBar(page, "messages"));
        Assert.Equal(("2", "50"), QuotaBar(page, "rpm"));
        // Tokens settle into the day's count as each reply is recorded (Redis, asynchronously): the rows' sum.
        var tokens = await app.QueryAsync(db => db.Usage.Where(u => u.UserId == user.UserId).SumAsync(u => (long)u.PromptTokens + u.CompletionTokens));
        await Eventually.Until(() => user.Http.GetStringAsync("/Account/Usage"), p => QuotaBar(p, "tokens") == (tokens.ToString(CultureInfo.InvariantCulture), "200000"),
            "the day's tokens to match the usage rows");
        Assert.Contains("Resets 00:00 UTC (in ", page);
        Assert.Null(await chat.Hub.InvokeAsync<LimitSummary?>(nameof(ChatHub.GetLimitSummary)));

        await ChatAsync(chat, 2);
        Assert.Equal(("4", "5"), QuotaBar(await user.Http.GetStringAsync("/Account/Usage"), "messages"));
        var summary = await chat.Hub.InvokeAsync<LimitSummary?>(nameof(ChatHub.GetLimitSummary));
        Assert.NotNull(summary);
        Assert.Equal("1 of 5 messages left today · resets 00:00 UTC", summary.Text);
        Assert.Equal(80, summary.PercentUsed);

        // The in-process quotas (one node, or Redis down) answer the same from the usage rows.
        var local = new TierQuotas(app.Services.GetRequiredService<IOptionsMonitor<QuotaOptions>>(),
            app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>(), TimeProvider.System);
        var status = await local.StatusAsync(user.UserId, Tier.Free, CancellationToken.None);
        Assert.Equal(new QuotaMeter(4, 5, Today.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc)), status.MessagesToday);
        local.Dispose();
    }

    [Fact]
    public async Task A_period_without_usage_says_so_and_draws_no_chart()
    {
        var user = await app.UserAsync();
        var page = await user.Http.GetStringAsync("/Account/Usage?period=90d");
        Assert.Contains("data-testid=\"usage-empty\"", page);
        Assert.DoesNotContain("data-testid=\"chart-tokens\"", page);
        Assert.Equal(0, Value(page, "total-requests"));
        Assert.Equal(("0", "5"), QuotaBar(page, "messages"));
    }

    [Fact]
    public async Task An_unknown_period_shows_the_last_7_days_and_says_why()
    {
        var user = await app.UserAsync();
        var response = await user.Http.GetAsync("/Account/Usage?period=forever");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("There is no period &quot;forever&quot;; showing the last 7 days.", page);
        Assert.Contains("aria-current=\"page\" data-testid=\"period-7d\"", page);
    }

    [Fact]
    public async Task The_page_needs_a_sign_in()
    {
        var anonymous = app.CreateBrowser();
        var response = await anonymous.GetAsync("/Account/Usage");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("/Account/Login", response.Headers.Location!.ToString());
    }

    internal static long Value(string html, string testId)
    {
        var match = Regex.Match(html, $"data-testid=\"{testId}\" data-value=\"([0-9.]+)\"");
        Assert.True(match.Success, $"no {testId} on the page");
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    internal static decimal Cost(string html, string testId)
    {
        var match = Regex.Match(html, $"data-testid=\"{testId}\" data-value=\"([0-9.]+)\"");
        Assert.True(match.Success, $"no {testId} on the page");
        return decimal.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    internal static (string Used, string Limit) QuotaBar(string html, string id)
    {
        var match = Regex.Match(html, $"data-testid=\"quota-{id}\" data-used=\"([0-9.]+)\" data-limit=\"([a-z0-9.]+)\"");
        Assert.True(match.Success, $"no quota bar {id} on the page");
        return (match.Groups[1].Value, match.Groups[2].Value);
    }

    internal static (long Requests, long Tokens)? DayRowOrNull(string html, DateOnly day)
    {
        var match = Regex.Match(html, $"data-day=\"{day:yyyy-MM-dd}\" data-requests=\"(\\d+)\" data-tokens=\"(\\d+)\"");
        return match.Success ? (long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture)) : null;
    }

    internal static (long Requests, long Tokens) DayRow(string html, DateOnly day) =>
        DayRowOrNull(html, day) ?? throw new Xunit.Sdk.XunitException($"no row for {day:yyyy-MM-dd}");

    [GeneratedRegex("data-model=\"mock/gpt-4o-mini\" data-requests=\"(?<requests>\\d+)\" data-tokens=\"(?<tokens>\\d+)\"")]
    private static partial Regex ModelRow();
}
