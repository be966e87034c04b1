using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Telemetry;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Protocols;
using Aggregator.Web.Upstream.Usage;

namespace Aggregator.Web.Upstream.Routing;

/// <summary>
/// Resolves a request, checks quotas, fails over across keys (and fallback providers) until a reply
/// starts, relays it as <see cref="StreamEvent"/>s and records its usage. See <see cref="IChatRouter"/>.
/// </summary>
public sealed class ChatRouter(
    RouteResolver resolver,
    ITierQuotas quotas,
    UpstreamConnector connector,
    IApiKeyPool pool,
    UsageRecorder usage,
    IOptionsMonitor<RouterOptions> options,
    TimeProvider time,
    GatewayTelemetry telemetry,
    ILogger<ChatRouter> log) : IChatRouter
{
    public async IAsyncEnumerable<StreamEvent> StreamAsync(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        using var span = GatewayTelemetry.StartRoute("chat", request.Source);
        RoutePlan plan;
        try
        {
            if (request.Messages.Count == 0)
                throw new RouterException(RouterError.InvalidRequest, "A request needs at least one message.");
            plan = await resolver.ResolveAsync(request, cancellationToken);
        }
        catch
        {
            request.Quota?.Refund(); // nothing was served
            throw;
        }
        var ticket = request.Quota ?? await quotas.AcquireAsync(request.UserId, request.UserTier, cancellationToken);
        var o = options.CurrentValue;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(o.StreamDeadline);

        OpenReply reply;
        try
        {
            reply = await connector.ConnectAsync(plan, request, o, deadline.Token, cancellationToken);
        }
        catch (Exception ex)
        {
            ticket.Refund();
            if (ex is RouterException refused && !cancellationToken.IsCancellationRequested)
                connector.RecordRequestFailure(new CallOrigin(request.UserId, request.ApiTokenId, request.Source), plan, refused);
            throw;
        }
        var timing = new ReplyTiming(time, started, time.GetElapsedTime(started));

        await using var _ = reply;
        var meter = new UsageMeter(TokenEstimator.Lazily(reply.Route.UpstreamModelId));
        var recorded = false;
        try
        {
            yield return new RouteStarted(reply.Route);
            foreach (var e in reply.Buffered)
            {
                meter.Observe(e);
                yield return e;
            }

            // Re-arming a timer takes the runtime's timer-queue lock: once per event (a token) it was the gateway's
            // largest CPU cost under load. So it is re-armed at most every eighth of the idle timeout, with that much
            // slack: a silence is never cut before IdleTimeout and at most an eighth later.
            var slack = o.IdleTimeout / 8;
            long armedAt = 0;
            while (true)
            {
                if (armedAt == 0 || Stopwatch.GetElapsedTime(armedAt) >= slack)
                {
                    reply.Attempt.CancelAfter(o.IdleTimeout + slack);
                    armedAt = Stopwatch.GetTimestamp();
                }
                StreamEvent? next = null;
                Exception? error = null;
                try
                {
                    if (await reply.Events.MoveNextAsync()) next = reply.Events.Current;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    error = ex;
                }

                if (error is not null)
                {
                    // After the first token nothing is retried: that would duplicate text the user has seen.
                    var reason = Describe(error, deadline.Token);
                    if (error is UpstreamFailure { KeyFault: { } fault and not KeyFault.Transport } failure)
                        await pool.ReportFailureAsync(reply.Key, fault, failure.RetryAfter, failure.Detail);
                    connector.RecordAttemptFailure(new CallOrigin(request.UserId, request.ApiTokenId, request.Source), reply.Candidate, reply.Key.KeyId,
                        error as UpstreamFailure ?? UpstreamFailure.Protocol("the stream broke"));
                    Record(request, reply, meter, ticket, timing, UsageOutcome.Interrupted);
                    recorded = true;
                    log.LogWarning("Stream from {Provider} ({Model}, key {KeyId}) interrupted after {Chars} characters: {Reason}",
                        reply.Route.ProviderName, reply.Route.UpstreamModelId, reply.Key.KeyId, meter.OutputChars, reason);
                    throw new RouterException(RouterError.Interrupted, $"The reply was interrupted: {reason}", inner: error);
                }
                if (next is null) break;
                meter.Observe(next);
                yield return next;
            }

            if (!reply.Decoder.Ended && !reply.Decoder.SawFinish)
            {
                // EOF without a finish reason or end marker: the reply was cut, not finished.
                Record(request, reply, meter, ticket, timing, UsageOutcome.Interrupted);
                recorded = true;
                throw new RouterException(RouterError.Interrupted, "The reply was interrupted: the provider closed the stream before finishing.");
            }

            var (final, cost) = Record(request, reply, meter, ticket, timing, UsageOutcome.Complete);
            recorded = true;
            yield return new StreamCompleted(final, meter.FinishReason ?? "stop", cost);
        }
        finally
        {
            // Cancelled by the caller, or abandoned: what was produced is still accounted for.
            if (!recorded) Record(request, reply, meter, ticket, timing, UsageOutcome.Stopped);
        }
    }

    (TokenUsage Usage, decimal? Cost) Record(ChatRequest request, OpenReply reply, in UsageMeter meter, QuotaTicket ticket, ReplyTiming timing, UsageOutcome outcome)
    {
        var final = meter.Final(request);
        var cost = UsageMeter.Cost(reply.Candidate.Model, final);
        var record = UsageMeter.ToRecord(request, reply.Candidate.Model, reply.Key.KeyId, final, cost, time.GetUtcNow().UtcDateTime);
        record.Outcome = outcome;
        record.TimeToFirstTokenMs = timing.FirstTokenMs;
        record.DurationMs = timing.ElapsedMs;
        usage.Record(record);
        telemetry.ReplyEnded(reply.Route, final, timing.FirstToken, TimeSpan.FromMilliseconds(timing.ElapsedMs), outcome);
        ticket.Complete(final);
        return (final, cost);
    }

    static string Describe(Exception error, CancellationToken deadline) => error switch
    {
        OperationCanceledException when deadline.IsCancellationRequested => "the reply exceeded its time limit",
        OperationCanceledException => "the provider stopped sending",
        UpstreamFailure f => f.Message,
        _ => "the connection to the provider was lost",
    };
}

/// <summary>When a reply started and got its first token, for the usage row (and the telemetry built on it).</summary>
internal readonly record struct ReplyTiming(TimeProvider Time, long Started, TimeSpan FirstToken)
{
    public int FirstTokenMs => (int)Math.Min(int.MaxValue, FirstToken.TotalMilliseconds);
    public int ElapsedMs => (int)Math.Min(int.MaxValue, Time.GetElapsedTime(Started).TotalMilliseconds);
}
