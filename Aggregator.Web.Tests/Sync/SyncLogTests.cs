using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Aggregator.MockUpstream;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Upstream.Sync;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aggregator.Web.Tests.Sync;

/// <summary>The app with fast sync retries and every log line of every level captured (HttpClient and Polly at Trace).</summary>
public sealed class SyncLogApp : AppFactory
{
    public SyncLogLines Logs { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Sync:RetryBaseDelay"] = "00:00:00.020",
        ["Sync:MaxRetries"] = "3",
        ["Sync:AttemptTimeout"] = "00:00:05",
        ["Sync:SchedulerEnabled"] = "false",
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning",
        ["Logging:LogLevel:System.Net.Http"] = "Trace",
        ["Logging:LogLevel:Polly"] = "Trace",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
    }
}

public sealed record SyncLogLine(string Category, LogLevel Level, string Message, Exception? Exception)
{
    public string Text => $"{Level} {Category}: {Message}\n{Exception}";
}

public sealed class SyncLogLines : ILoggerProvider
{
    readonly ConcurrentQueue<SyncLogLine> _lines = new();
    public IReadOnlyList<SyncLogLine> Lines => [.. _lines];
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);
    public void Dispose() { }

    sealed class Logger(string category, ConcurrentQueue<SyncLogLine> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        // Every level, as a provider set to Trace would write it; None is "not logged" by convention (the console logger's too).
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) lines.Enqueue(new SyncLogLine(category, logLevel, formatter(state, exception), exception));
        }
    }
}

/// <summary>A provider that cannot be reached, or answers with the key in its error text: one warning per sync run, nothing secret.</summary>
public sealed class SyncLogTests(SyncLogApp app) : IClassFixture<SyncLogApp>, IAsyncLifetime
{
    MockUpstreamServer _mock = null!;

    public async Task InitializeAsync() => _mock = await MockUpstreamServer.StartAsync();
    public async Task DisposeAsync() => await _mock.DisposeAsync();

    async Task<(SyncResult Result, List<SyncLogLine> Logged)> SyncAndCaptureAsync(int providerId)
    {
        using var scope = app.Services.CreateScope();
        var before = app.Logs.Lines.Count;
        var result = await scope.ServiceProvider.GetRequiredService<ModelSync>().SyncAsync(providerId, "test", CancellationToken.None);
        return (result, app.Logs.Lines.Skip(before).ToList());
    }

    [Fact]
    public async Task An_unreachable_provider_logs_one_warning_per_run_without_a_stack_trace_per_attempt()
    {
        var (provider, _) = await app.AddProviderAsync($"http://127.0.0.1:{ClosedPort()}/v1");

        var (result, logged) = await SyncAndCaptureAsync(provider.Id);

        Assert.Equal(SyncOutcome.Failed, result.Outcome);
        Assert.Equal(4, result.Run!.Attempts); // the first try and three retries
        Assert.All(logged, l => Assert.Null(l.Exception));
        var line = Assert.Single(logged, l => l.Level >= LogLevel.Information);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Equal(typeof(ModelSync).FullName, line.Category);
        Assert.Contains(provider.Name, line.Message);
        Assert.Contains("after 4 attempt(s)", line.Message);
        Assert.Contains("Unreachable", line.Message);
    }

    [Theory]
    [InlineData("500,echo_key", "HTTP 500")]
    [InlineData("503,echo_key_fragment", "HTTP 503")]
    [InlineData("401,echo_key", "HTTP 401")]
    public async Task A_provider_echoing_the_key_logs_one_warning_with_its_status_and_never_the_key_or_its_text(string fault, string status)
    {
        var secret = "sk-echo-" + string.Concat(Enumerable.Range(0, 32).Select(_ => "ghijklmnopqrstuvwxyz"[Random.Shared.Next(20)]));
        _mock.State.SetKeyFault(secret, fault);
        var (provider, _) = await app.AddProviderAsync(_mock.OpenAIUrl, secret: secret);

        var (result, logged) = await SyncAndCaptureAsync(provider.Id);

        Assert.Equal(SyncOutcome.Failed, result.Outcome);
        Assert.True(_mock.State.CountFor(secret) >= 1);
        Assert.All(logged, l =>
        {
            Assert.DoesNotContain(secret, l.Text);
            Assert.DoesNotContain(secret[4..14], l.Text); // nor the piece a fragment-echoing gateway prints
            Assert.Null(l.Exception);
        });
        var line = Assert.Single(logged, l => l.Level >= LogLevel.Information);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains(status, line.Message);
        Assert.Contains($"after {result.Run!.Attempts} attempt(s)", line.Message);
        // Provider text may echo what was sent: the line says what happened, not what the provider wrote.
        Assert.DoesNotContain("Incorrect API key", line.Message);
        Assert.DoesNotContain("request made with", line.Message);
    }

    static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
