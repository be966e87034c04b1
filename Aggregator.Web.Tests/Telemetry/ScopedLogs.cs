using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Aggregator.Web.Tests.Telemetry;

/// <summary>
/// Every log line of every category as a console with scopes would print it: level, category, message, exception
/// (inner ones included) and the scopes the logger factory adds (TraceId and SpanId among them).
/// </summary>
public sealed class ScopedLogs : ILoggerProvider, ISupportExternalScope
{
    readonly ConcurrentQueue<string> _lines = new();
    IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<string> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose() { }

    sealed class Logger(string category, ScopedLogs owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = new StringBuilder($"{logLevel} {category}: {formatter(state, exception)}");
            owner._scopes.ForEachScope((scope, b) =>
            {
                b.Append(" => ");
                if (scope is IEnumerable<KeyValuePair<string, object?>> pairs) b.AppendJoin(", ", pairs.Select(p => $"{p.Key}:{p.Value}"));
                else b.Append(scope);
            }, line);
            if (exception is not null) line.Append('\n').Append(exception);
            owner._lines.Enqueue(line.ToString());
        }
    }
}
