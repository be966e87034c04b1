using System.Diagnostics;
using System.Diagnostics.Metrics;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Protocols;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Features.Telemetry;

/// <summary>
/// The gateway's own instruments (meter and activity source "Aggregator"): the OpenTelemetry GenAI client
/// conventions for every routed request, and ours (<c>aggregator.*</c>) for what only a gateway knows. The
/// router, the connector, the catalogue and the sync call one method each; the names, units and bucket
/// boundaries live here.
/// </summary>
public sealed class GatewayTelemetry
{
    public const string Name = "Aggregator";
    /// <summary>Static as activity sources are: one per process, listened to by every host's tracer.</summary>
    public static readonly ActivitySource Source = new(Name);

    const string RouteSpan = "aggregator.route";
    const string AttemptSpan = "aggregator.upstream.attempt";

    // Bucket boundaries the GenAI semantic conventions recommend for each instrument.
    static readonly double[] DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    static readonly double[] FirstTokenBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
    static readonly double[] PerTokenBuckets = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];
    static readonly double[] OverheadBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
    static readonly double[] SyncBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    readonly Histogram<double> operationDuration;
    readonly Histogram<long> tokenUsage;
    readonly Histogram<double> timeToFirstToken;
    readonly Histogram<double> timePerOutputToken;
    readonly Histogram<double> overhead;
    readonly Counter<long> upstreamErrors;
    readonly Counter<long> catalogLookups;
    readonly Histogram<double> syncDuration;

    /// <param name="services">For the chat's generation manager, read when observed (it depends on the router, which depends on this).</param>
    public GatewayTelemetry(IMeterFactory meters, IApiKeyPool keys, RoutingTable routing, IServiceProvider services)
    {
        var meter = meters.Create(Name);
        operationDuration = meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s", "GenAI operation duration, from the router's start to the reply's end.",
            tags: null, advice: new() { HistogramBucketBoundaries = DurationBuckets });
        tokenUsage = meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", "Input and output tokens per operation.",
            tags: null, advice: new() { HistogramBucketBoundaries = TokenBuckets });
        timeToFirstToken = meter.CreateHistogram<double>("gen_ai.server.time_to_first_token", "s", "Time to the first token of a successful reply, as the gateway's caller sees it.",
            tags: null, advice: new() { HistogramBucketBoundaries = FirstTokenBuckets });
        timePerOutputToken = meter.CreateHistogram<double>("gen_ai.server.time_per_output_token", "s", "Time per output token after the first, for successful replies.",
            tags: null, advice: new() { HistogramBucketBoundaries = PerTokenBuckets });
        overhead = meter.CreateHistogram<double>("aggregator.gateway.overhead", "s",
            "Time the gateway adds before the first upstream request is sent (resolution, quotas, key pick, body).",
            tags: null, advice: new() { HistogramBucketBoundaries = OverheadBuckets });
        upstreamErrors = meter.CreateCounter<long>("aggregator.upstream.errors", "{error}", "Failed upstream attempts by provider, key and error class.");
        catalogLookups = meter.CreateCounter<long>("aggregator.catalog.cache.lookups", "{lookup}", "Catalogue cache lookups; result=hit or miss (built from the database).");
        syncDuration = meter.CreateHistogram<double>("aggregator.sync.duration", "s", "Model-list sync runs by provider and result.",
            tags: null, advice: new() { HistogramBucketBoundaries = SyncBuckets });
        meter.CreateObservableGauge("aggregator.keys", () => KeyStates(keys, routing), "{key}", "API keys per provider and state (active, cooling, disabled).");
        meter.CreateObservableUpDownCounter("aggregator.generations.active", () => services.GetService<GenerationManager>()?.RunningCount ?? 0,
            "{generation}", "Chat replies being written on this node.");
    }

    /// <summary>The router's span: parent of every attempt and of the upstream HTTP request, child of the hub call or /v1 request.</summary>
    public static Activity? StartRoute(string operation, string source)
    {
        var span = Source.StartActivity(RouteSpan, ActivityKind.Internal);
        span?.SetTag("gen_ai.operation.name", operation);
        span?.SetTag("aggregator.source", source);
        return span;
    }

    /// <summary>One try with one key; the first also measures the time we took before it.</summary>
    public Activity? StartAttempt(RouteCandidate candidate, long keyId, int attempt)
    {
        var route = Activity.Current is { OperationName: RouteSpan } current ? current : null;
        if (attempt == 1 && route is not null)
            overhead.Record((DateTime.UtcNow - route.StartTimeUtc).TotalSeconds, Tag("gen_ai.operation.name", route.GetTagItem("gen_ai.operation.name")));
        route?.SetTag("gen_ai.provider.name", candidate.Provider.Name);
        route?.SetTag("gen_ai.request.model", candidate.Model.ModelId);
        var span = Source.StartActivity(AttemptSpan, ActivityKind.Internal);
        if (span is null) return null;
        span.SetTag("gen_ai.provider.name", candidate.Provider.Name);
        span.SetTag("gen_ai.request.model", candidate.Model.ModelId);
        span.SetTag("aggregator.key.id", keyId);
        span.SetTag("aggregator.attempt", attempt);
        return span;
    }

    /// <summary>An attempt failed (before or after its first token): counted by key and class, marked on its span.</summary>
    public void AttemptFailed(RouteCandidate candidate, long keyId, UpstreamFailure failure)
    {
        var errorClass = failure.KeyFault?.ToString() ?? failure.Error.ToString();
        upstreamErrors.Add(1, new TagList
        {
            { "gen_ai.provider.name", candidate.Provider.Name }, { "aggregator.key.id", keyId }, { "error.type", errorClass },
        });
        if (Activity.Current is { OperationName: AttemptSpan } span)
        {
            span.SetTag("error.type", errorClass);
            span.SetTag("aggregator.outcome", "failed");
            span.SetStatus(ActivityStatusCode.Error, errorClass);
        }
    }

    /// <summary>The caller got an error: the operation's duration with error.type, and the route span marked.</summary>
    public void RequestFailed(RoutePlan plan, RouterException error)
    {
        var route = Activity.Current is { OperationName: RouteSpan } current ? current : null;
        var operation = route?.GetTagItem("gen_ai.operation.name") as string ?? "chat";
        var tags = Operation(operation, plan.Primary.Provider.Name, plan.Primary.Model.ModelId);
        tags.Add("error.type", error.Error.ToString());
        if (route is not null)
        {
            operationDuration.Record((DateTime.UtcNow - route.StartTimeUtc).TotalSeconds, tags);
            route.SetTag("error.type", error.Error.ToString());
            route.SetStatus(ActivityStatusCode.Error, error.Error.ToString());
        }
    }

    /// <summary>A chat reply ended (complete, stopped or interrupted) with this usage and timing.</summary>
    public void ReplyEnded(RouteInfo route, TokenUsage usage, TimeSpan firstToken, TimeSpan elapsed, UsageOutcome outcome)
    {
        var tags = Operation("chat", route.ProviderName, route.UpstreamModelId);
        if (outcome == UsageOutcome.Interrupted) tags.Add("error.type", nameof(RouterError.Interrupted));
        operationDuration.Record(elapsed.TotalSeconds, tags);
        RecordTokens(tags, usage);
        if (outcome == UsageOutcome.Interrupted) return;
        timeToFirstToken.Record(firstToken.TotalSeconds, tags);
        if (usage.CompletionTokens > 1)
            timePerOutputToken.Record((elapsed - firstToken).TotalSeconds / (usage.CompletionTokens - 1), tags);
    }

    /// <summary>An embeddings request was served.</summary>
    public void EmbeddingServed(RouteInfo route, TokenUsage usage)
    {
        var tags = Operation("embeddings", route.ProviderName, route.UpstreamModelId);
        if (Activity.Current is { OperationName: RouteSpan } span)
            operationDuration.Record((DateTime.UtcNow - span.StartTimeUtc).TotalSeconds, tags);
        tags.Add("gen_ai.token.type", "input");
        tokenUsage.Record(usage.PromptTokens, tags);
    }

    /// <summary>A catalogue lookup; <paramref name="missed"/> when it was built from the database.</summary>
    public void CatalogLookup(bool missed) => catalogLookups.Add(1, Tag("result", missed ? "miss" : "hit"));

    /// <summary>A sync run ended.</summary>
    public void SyncEnded(string provider, SyncRunStatus status, TimeSpan duration) =>
        syncDuration.Record(duration.TotalSeconds, new TagList { { "gen_ai.provider.name", provider }, { "aggregator.result", status.ToString().ToLowerInvariant() } });

    void RecordTokens(TagList tags, TokenUsage usage)
    {
        var input = tags;
        input.Add("gen_ai.token.type", "input");
        tokenUsage.Record(usage.PromptTokens, input);
        var output = tags;
        output.Add("gen_ai.token.type", "output");
        tokenUsage.Record(usage.CompletionTokens, output);
    }

    static TagList Operation(string operation, string provider, string model) => new()
    {
        { "gen_ai.operation.name", operation }, { "gen_ai.provider.name", provider }, { "gen_ai.request.model", model },
    };

    static TagList Tag(string key, object? value) => new() { { key, value } };

    static IEnumerable<Measurement<int>> KeyStates(IApiKeyPool keys, RoutingTable routing)
    {
        var now = DateTime.UtcNow;
        var providers = routing.Current.Providers;
        return keys.Describe()
            .GroupBy(k => (k.ProviderId, State: !k.Active ? "disabled" : k.CooldownUntil > now ? "cooling" : "active"))
            .Select(g => new Measurement<int>(g.Count(), new TagList
            {
                { "gen_ai.provider.name", providers.TryGetValue(g.Key.ProviderId, out var p) ? p.Name : g.Key.ProviderId.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                { "aggregator.key.state", g.Key.State },
            }));
    }
}
