using System.Collections.Concurrent;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Tests.Router;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aggregator.Web.Tests.Security;

/// <summary>
/// The router app with short attempt timeouts, fast sync retries and every log line captured
/// (HttpClient at Trace, so request headers are in the capture too).
/// </summary>
public sealed class RedactionAppFactory : RouterAppFactory
{
    public CapturedLogs Logs { get; } = new();

    protected override IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Router:AttemptTimeout"] = "00:00:01",
        ["Sync:RetryBaseDelay"] = "00:00:00.050",
        ["Sync:MaxRetries"] = "2",
        ["Sync:AttemptTimeout"] = "00:00:05",
        ["Logging:LogLevel:Default"] = "Debug",
        ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Information",
        ["Logging:LogLevel:System.Net.Http"] = "Trace",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
    }

    /// <summary>Makes seeded models visible to the chat's catalogue.</summary>
    public ValueTask RefreshCatalogAsync() => Services.GetRequiredService<CatalogCache>().InvalidateAsync();
}

/// <summary>Every formatted log message with its exception (inner ones included), from every category.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose() { }

    sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : "\n" + exception)}");
    }
}
