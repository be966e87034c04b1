using Microsoft.AspNetCore.SignalR;

namespace Aggregator.Web.Features.Telemetry;

/// <summary>
/// How a hub call ends, in the log and for the user, in one place. A <see cref="HubException"/> is an expected refusal
/// (someone else's conversation, an empty message, a quota): one Information line, no stack trace. Anything else is a
/// bug: logged as an error with its exception, and the user gets a message with the trace reference to quote (SignalR
/// would send a bare "unexpected error" and log it only at Debug).
/// </summary>
public sealed partial class HubCallOutcomes(ILogger<HubCallOutcomes> log) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocation, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(invocation);
        }
        catch (HubException ex)
        {
            LogRefused(invocation.HubMethodName, ex.Message);
            throw;
        }
        catch (OperationCanceledException) when (invocation.Context.ConnectionAborted.IsCancellationRequested)
        {
            throw; // the connection went away: nobody to tell
        }
        catch (Exception ex)
        {
            LogFailed(ex, invocation.HubMethodName);
            throw new HubException(TraceReference.Append("Something went wrong on the server. Try again; if it keeps happening, tell an admin."));
        }
    }

    [LoggerMessage(LogLevel.Information, "Hub call {Method} refused: {Reason}")]
    partial void LogRefused(string method, string reason);

    [LoggerMessage(LogLevel.Error, "Hub call {Method} failed unexpectedly")]
    partial void LogFailed(Exception ex, string method);
}
