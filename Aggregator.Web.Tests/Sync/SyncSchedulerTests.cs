using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Aggregator.Web.Data;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Upstream.Sync;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Aggregator.Web.Tests.Sync;

/// <summary>The app on a fake clock, with every warning and error it logs captured.</summary>
public sealed class ScheduledSyncApp : AppFactory
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);
    public CapturedLogs Logs { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Sync:SchedulerEnabled"] = "false", // the test drives the scheduler's ticks itself
        ["Sync:MaxRetries"] = "2",
        ["Sync:RetryBaseDelay"] = "00:00:00",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Clock);
            services.AddSingleton<ILoggerProvider>(Logs);
        });
    }
}

public sealed record CapturedLog(string Category, LogLevel Level, string Message, Exception? Exception);

public sealed class CapturedLogs : ILoggerProvider
{
    readonly ConcurrentQueue<CapturedLog> _entries = new();
    public IReadOnlyList<CapturedLog> Entries => [.. _entries];
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);
    public void Dispose() { }

    sealed class Logger(string category, ConcurrentQueue<CapturedLog> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) entries.Enqueue(new CapturedLog(category, logLevel, formatter(state, exception), exception));
        }
    }
}

public sealed class SyncSchedulerTests(ScheduledSyncApp app) : IClassFixture<ScheduledSyncApp>
{
    [Fact]
    public async Task A_failing_provider_is_retried_after_growing_delays_capped_at_its_interval_with_one_warning_per_run()
    {
        var (provider, _) = await app.AddProviderAsync($"http://127.0.0.1:{ClosedPort()}/v1", ModelListShape.OpenAI);
        await app.WithDbAsync(db => db.Providers.Where(p => p.Id == provider.Id).ExecuteUpdateAsync(s => s.SetProperty(p => p.SyncIntervalMinutes, 5)));
        var scheduler = app.Services.GetRequiredService<SyncScheduler>();
        var logsBefore = app.Logs.Entries.Count;

        var runMinutes = new List<int>();
        for (var minute = 0; minute <= 13; minute++)
        {
            if (await scheduler.QueueDueProvidersAsync(CancellationToken.None) > 0)
            {
                runMinutes.Add(minute);
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (scheduler.IsPending(provider.Id) && DateTime.UtcNow < deadline) await Task.Delay(10);
                Assert.False(scheduler.IsPending(provider.Id), $"the sync at minute {minute} did not finish");
            }
            app.Clock.Advance(TimeSpan.FromMinutes(1)); // one scheduler tick
        }

        Assert.Equal([0, 1, 3, 7, 12], runMinutes); // waits of 1, 2, 4, then 5 (the interval), not a run every minute
        var runs = await app.WithDbAsync(db => db.SyncRuns.Where(r => r.ProviderId == provider.Id).ToListAsync());
        Assert.Equal(5, runs.Count);
        Assert.All(runs, r => Assert.Equal(SyncRunStatus.Failed, r.Status));
        var logged = app.Logs.Entries.Skip(logsBefore).ToList();
        Assert.Equal(5, logged.Count);
        Assert.All(logged, l =>
        {
            Assert.Equal(LogLevel.Warning, l.Level);
            Assert.Null(l.Exception); // an unreachable host is expected: no stack trace
            Assert.Contains("Unreachable (no HTTP status) from 127.0.0.1", l.Message);
        });
    }

    [Theory]
    [InlineData(0, 360, 360)]  // healthy: the interval after the last success
    [InlineData(1, 360, 1)]
    [InlineData(2, 360, 2)]
    [InlineData(4, 360, 8)]
    [InlineData(9, 360, 256)]
    [InlineData(10, 360, 360)] // capped at the interval
    [InlineData(50, 30, 30)]
    public void Next_sync_backs_off_after_failures_in_a_row(int failures, int intervalMinutes, int expectedMinutes)
    {
        var lastSuccess = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var lastRun = failures == 0 ? lastSuccess : lastSuccess.AddHours(1);
        var due = SyncScheduler.NextDue(lastSuccess, lastRun, failures, TimeSpan.FromMinutes(intervalMinutes), TimeSpan.FromMinutes(1));
        Assert.Equal(lastRun.AddMinutes(expectedMinutes), due);
    }

    static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
