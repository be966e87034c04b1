using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Telemetry;
using Aggregator.Web.Security;
using Aggregator.Web.Upstream;
using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Protocols;
using Aggregator.Web.Upstream.Routing;
using Aggregator.Web.Upstream.Sync;
using Aggregator.Web.Upstream.Usage;

namespace Aggregator.Benchmarks;

/// <summary>
/// The whole <see cref="IChatRouter.StreamAsync"/> path — quota check, resolution, key pick, request
/// building, HttpClient pipeline, decoding, usage accounting — with the upstream replaced by an
/// in-memory handler that returns a canned 60-token stream (so no network I/O is measured).
/// The database (SQLite in memory) is only touched at setup; usage rows are queued as in the app
/// and written at the end.
/// </summary>
[MemoryDiagnoser]
public class RouterEndToEndBenchmark
{
    SqliteConnection _connection = null!;
    RoutingTable _table = null!;
    ChatRouter _router = null!;
    UsageRecorder _usage = null!;
    ChatRequest _openAI = null!, _anthropic = null!;

    [GlobalSetup]
    public void Setup()
    {
        _connection = new SqliteConnection("Data Source=:memory:");
        _connection.Open();
        var dbFactory = new Factory(new DbContextOptionsBuilder<SqliteDbContext>().UseSqlite(_connection).Options);
        var box = new SecretBox(RandomNumberGenerator.GetBytes(32));
        using (var db = dbFactory.CreateDbContext())
        {
            db.Database.EnsureCreated();
            var now = DateTime.UtcNow;
            foreach (var (name, standard) in new[] { ("openai", ApiStandard.OpenAI), ("anthropic", ApiStandard.Anthropic) })
            {
                var provider = new Provider { Name = name, DisplayName = name, ApiStandard = standard, BaseUrl = $"https://{name}.invalid/v1" };
                db.Providers.Add(provider);
                for (var k = 0; k < 4; k++)
                {
                    var secret = $"sk-{name}-{k}-{Guid.NewGuid():N}";
                    db.ApiKeys.Add(new ApiKey { Provider = provider, Name = $"k{k}", EncryptedSecret = box.Encrypt(secret), SecretFingerprint = box.Fingerprint(secret), MaskedHint = SecretBox.Mask(secret) });
                }
                for (var m = 0; m < 189; m++)
                    db.Models.Add(new AiModel { Provider = provider, ModelId = $"{name}-model-{m}", DisplayName = $"Model {m}", FirstSeenAt = now, LastSeenAt = now, UpdatedAt = now, ContentHash = "h", InputPricePerMTok = 2.5m, OutputPricePerMTok = 10m });
            }
            db.SaveChanges();
        }
        long openAIModel, anthropicModel;
        using (var db = dbFactory.CreateDbContext())
        {
            openAIModel = db.Models.Where(m => m.ModelId == "openai-model-7").Select(m => m.Id).Single();
            anthropicModel = db.Models.Where(m => m.ModelId == "anthropic-model-7").Select(m => m.Id).Single();
        }

        var time = TimeProvider.System;
        var routerOptions = new RouterOptions();
        var pool = new ApiKeyPool(box, new Monitor<KeyHealthOptions>(new()), time, NullLogger<ApiKeyPool>.Instance);
        _table = new RoutingTable(dbFactory, pool, Options.Create(WithLongLifetime()), time, NullLogger<RoutingTable>.Instance);
        _table.ReloadAsync().GetAwaiter().GetResult();
        var clients = new ProviderClients(Options.Create(routerOptions));
        _usage = new UsageRecorder(dbFactory, new TokenSpend(dbFactory, time), time, NullLogger<UsageRecorder>.Instance);
        var metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var telemetry = new GatewayTelemetry(metrics.GetRequiredService<IMeterFactory>(), pool, _table, metrics);
        var connector = new UpstreamConnector(pool, clients, new CannedHttp(), _usage, time, telemetry, NullLogger<UpstreamConnector>.Instance);
        // Not started: queued usage rows wait in memory (a few MB over a run) so database writes stay out of the figures.
        var quotas = new TierQuotas(new Monitor<QuotaOptions>(new() { Free = new() { RequestsPerMinute = int.MaxValue } }), dbFactory, time);
        _router = new ChatRouter(new RouteResolver(_table, pool), quotas, connector, pool, _usage,
            new Monitor<RouterOptions>(routerOptions), time, telemetry, NullLogger<ChatRouter>.Instance);
        ChatTurn[] turns = [new(MessageRole.System, "You are helpful."), new(MessageRole.User, "Write a short poem about routers, please.")];
        _openAI = new ChatRequest("user-1", Tier.Free, openAIModel, turns);
        _anthropic = new ChatRequest("user-1", Tier.Free, anthropicModel, turns);

        static RouterOptions WithLongLifetime() => new() { SnapshotLifetime = TimeSpan.FromHours(1) };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _usage.FlushAsync().GetAwaiter().GetResult();
        _connection.Dispose();
    }

    [Benchmark(Baseline = true, Description = "IChatRouter.StreamAsync, OpenAI, 60 tokens")]
    public Task<int> OpenAI() => RunAsync(_openAI);

    [Benchmark(Description = "IChatRouter.StreamAsync, Anthropic, 60 tokens")]
    public Task<int> Anthropic() => RunAsync(_anthropic);

    async Task<int> RunAsync(ChatRequest request)
    {
        var n = 0;
        await foreach (var _ in _router.StreamAsync(request, CancellationToken.None)) n++;
        return n;
    }

    sealed class Factory(DbContextOptions<SqliteDbContext> options) : IDbContextFactory<AppDbContext>
    {
        public AppDbContext CreateDbContext() => new SqliteDbContext(options);
    }

    sealed class Monitor<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;
        public T Get(string? name) => value;
        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }

    /// <summary>Stands in for the network: a canned reply per API standard, as an upstream would stream it.</summary>
    sealed class CannedHttp : IHttpClientFactory
    {
        readonly HttpClient _client = new(new Handler(), disposeHandler: false);
        public HttpClient CreateClient(string name) => _client;

        sealed class Handler : HttpMessageHandler
        {
            static readonly byte[] OpenAIReply = Encoding.UTF8.GetBytes(RouterOverheadBenchmark.CannedOpenAI(60));
            static readonly byte[] AnthropicReply = Encoding.UTF8.GetBytes(RouterOverheadBenchmark.CannedAnthropic(60));

            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var body = request.RequestUri!.AbsolutePath.EndsWith("/messages", StringComparison.Ordinal) ? AnthropicReply : OpenAIReply;
                var content = new StreamContent(new MemoryStream(body, writable: false));
                content.Headers.TryAddWithoutValidation("Content-Type", "text/event-stream");
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request });
            }
        }
    }
}
