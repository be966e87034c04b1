using System.Diagnostics;

namespace Aggregator.Web.Features.Telemetry;

/// <summary>
/// "reference: &lt;trace id&gt;" on errors shown to users: a user quotes it, an admin finds the trace and every
/// log line of the failed request by it (each line carries its TraceId).
/// </summary>
public static class TraceReference
{
    /// <summary>The current trace id, or null outside a trace.</summary>
    public static string? Current => Activity.Current is { } a && a.TraceId != default ? a.TraceId.ToHexString() : null;

    /// <summary><paramref name="message"/> with the current trace's reference, once; unchanged outside a trace.</summary>
    public static string Append(string message) =>
        Current is { } id && !message.Contains("(reference: ", StringComparison.Ordinal) ? $"{message} (reference: {id})" : message;
}
