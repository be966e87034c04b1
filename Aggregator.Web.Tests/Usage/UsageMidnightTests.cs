using Aggregator.Web.Data;
using Aggregator.Web.Tests.Chats;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Upstream.Usage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Aggregator.Web.Tests.Usage;

/// <summary>The app on a fake clock 30 seconds before a UTC midnight.</summary>
public sealed class MidnightUsageApp : AppFactory
{
    public static readonly DateTimeOffset Midnight = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(1);
    public FakeTimeProvider Clock { get; } = new(Midnight.AddSeconds(-30));

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Sync:SchedulerEnabled"] = "false", ["Admin:Email"] = "nobody-admin@example.invalid",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));
    }
}

/// <summary>Usage on each side of midnight UTC lands in its own day, and "today" moves with the clock.</summary>
public sealed class UsageMidnightTests(MidnightUsageApp app) : IClassFixture<MidnightUsageApp>
{
    async Task RecordAsync(string userId, DateTime at, int completion)
    {
        var recorder = app.Services.GetRequiredService<UsageRecorder>();
        recorder.Record(new UsageRecord
        {
            UserId = userId, ProviderId = 1, Source = "chat", CreatedAt = at, Day = DateOnly.FromDateTime(at),
            PromptTokens = 10, CompletionTokens = completion,
        });
        await recorder.FlushAsync();
    }

    [Fact]
    public async Task Each_side_of_midnight_is_its_own_day_and_today_moves_with_the_clock()
    {
        var user = await ChatUser.CreateAsync(app, Tier.Free);
        var before = DateOnly.FromDateTime(MidnightUsageApp.Midnight.UtcDateTime.AddDays(-1));
        var after = DateOnly.FromDateTime(MidnightUsageApp.Midnight.UtcDateTime);
        await RecordAsync(user.UserId, MidnightUsageApp.Midnight.UtcDateTime.AddSeconds(-20), completion: 5);

        var page = await user.Http.GetStringAsync("/Account/Usage?period=today");
        Assert.Equal((1, 15), UsagePageTests.DayRow(page, before));
        Assert.Equal(15, UsagePageTests.Value(page, "total-output") + UsagePageTests.Value(page, "total-input"));

        app.Clock.Advance(TimeSpan.FromSeconds(60)); // 00:00:30 the next day
        await RecordAsync(user.UserId, MidnightUsageApp.Midnight.UtcDateTime.AddSeconds(10), completion: 7);

        page = await user.Http.GetStringAsync("/Account/Usage?period=today");
        Assert.Equal((1, 17), UsagePageTests.DayRow(page, after));
        Assert.Null(UsagePageTests.DayRowOrNull(page, before));
        Assert.Equal(1, UsagePageTests.Value(page, "total-requests"));

        page = await user.Http.GetStringAsync("/Account/Usage?period=7d");
        Assert.Equal((1, 15), UsagePageTests.DayRow(page, before));
        Assert.Equal((1, 17), UsagePageTests.DayRow(page, after));
        Assert.Equal(2, UsagePageTests.Value(page, "total-requests"));
    }
}
