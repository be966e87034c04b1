using System.Security.Cryptography;
using System.Text;
using Aggregator.Web.Data;
using Aggregator.Web.Security;
using Aggregator.Web.Upstream;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Protocols;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Benchmarks;

/// <summary>
/// `router`: per-request router overhead without upstream I/O: resolution from the snapshot, an atomic
/// LRU key pick, request building, and decoding a canned 60-token stream with usage accounting.
/// Target from issue 5: under 50 µs and 10 KB allocated per request.
/// Usage: dotnet run -c Release --project tools/Aggregator.Benchmarks -- router [BenchmarkDotNet args]
/// </summary>
public static class RouterBenchmark
{
    public static Task RunAsync(string[] args)
    {
        // In-process: no child project to build, and quick enough to run on every change.
        var config = DefaultConfig.Instance
            .AddJob(Job.Default
                .WithWarmupCount(4).WithIterationCount(15)
                .WithMinIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250))
                .WithToolchain(InProcessEmitToolchain.Instance))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        BenchmarkSwitcher.FromTypes([typeof(RouterOverheadBenchmark), typeof(RouterEndToEndBenchmark)])
            .Run(args.Length > 0 ? args : ["--filter", "*"], config);
        return Task.CompletedTask;
    }
}

[MemoryDiagnoser]
public class RouterOverheadBenchmark
{
    RoutingSnapshot _snapshot = null!;
    RouteResolver _resolver = null!;
    ApiKeyPool _pool = null!;
    ChatRequest _request = null!;
    ChatRequest _anthropicRequest = null!;
    ProviderClients _clients = null!;
    byte[] _openAIStream = null!;
    byte[] _anthropicStream = null!;
    readonly KeyLease _decodeKey = new(0, 0, "sk-bench-decode-key");

    [GlobalSetup]
    public void Setup()
    {
        var box = new SecretBox(RandomNumberGenerator.GetBytes(32));
        var now = DateTime.UtcNow;
        var providers = new[]
        {
            new ProviderRoute(1, "openai", "OpenAI", ApiStandard.OpenAI, "https://api.openai.com/v1", null, true, false),
            new ProviderRoute(2, "anthropic", "Anthropic", ApiStandard.Anthropic, "https://api.anthropic.com/v1", null, true, false),
            new ProviderRoute(3, "aihubmix", "AiHubMix", ApiStandard.OpenAI, "https://aihubmix.com/v1", null, true, true),
        };
        // A catalogue of the seed's size: 378 models over three providers.
        var models = Enumerable.Range(1, 378).Select(i => new ModelRoute(i, (i % 3) + 1, $"model-{i}", $"Model {i}", Tier.Free, true, 8192, 2.5m, 10m)).ToList();
        var keys = Enumerable.Range(1, 12).Select(i => new KeyRow(i, (i % 3) + 1, box.Encrypt($"sk-bench-{i}-{Guid.NewGuid():N}"), true, null, 0, null)).ToList();
        _snapshot = new RoutingSnapshot(models, providers, keys, now);
        _pool = new ApiKeyPool(box, new Fixed<KeyHealthOptions>(new KeyHealthOptions()), TimeProvider.System, NullLogger<ApiKeyPool>.Instance);
        _pool.Sync(_snapshot.Keys, now);
        _resolver = new RouteResolver(null!, _pool); // Resolve(snapshot, …) never touches the table
        _clients = new ProviderClients(Options.Create(new RouterOptions()));
        ChatTurn[] turns = [new(MessageRole.System, "You are helpful."), new(MessageRole.User, "Write a short poem about routers, please.")];
        _request = new ChatRequest("user-1", Tier.Pro, 1, turns);          // model 1 → provider 2 (Anthropic)
        _anthropicRequest = _request;
        _request = _request with { ModelId = 3 };                             // model 3 → provider 1 (OpenAI)
        _openAIStream = Encoding.UTF8.GetBytes(CannedOpenAI(60));
        _anthropicStream = Encoding.UTF8.GetBytes(CannedAnthropic(60));
    }

    [Benchmark(Description = "resolve + pick key")]
    public long ResolveAndPick()
    {
        var plan = _resolver.Resolve(_snapshot, _request);
        return _pool.TryAcquire(plan.Primary.Provider.Id, null, out _)!.KeyId;
    }

    [Benchmark(Description = "build OpenAI request")]
    public int BuildOpenAIRequest()
    {
        var plan = _resolver.Resolve(_snapshot, _request);
        var client = _clients.For(plan.Primary.Provider.Standard);
        var key = _pool.TryAcquire(plan.Primary.Provider.Id, null, out _)!;
        using var message = client.ChatRequest(plan.Primary.Provider, client.Protocol.BuildBody(plan.Primary.Model, _request), key);
        return message.Headers.NonValidated.Count;
    }

    [Benchmark(Description = "decode OpenAI stream (60 tokens)")]
    public Task<int> DecodeOpenAI() => DecodeAsync(_clients.OpenAI, _decodeKey, _openAIStream, _request);

    [Benchmark(Description = "decode Anthropic stream (60 tokens)")]
    public Task<int> DecodeAnthropic() => DecodeAsync(_clients.Anthropic, _decodeKey, _anthropicStream, _anthropicRequest);

    [Benchmark(Baseline = true, Description = "whole request: resolve, pick, build, decode (OpenAI)")]
    public async Task<int> WholeRequestOpenAI()
    {
        var plan = _resolver.Resolve(_snapshot, _request);
        var client = _clients.For(plan.Primary.Provider.Standard);
        var key = _pool.TryAcquire(plan.Primary.Provider.Id, null, out _)!;
        using (client.ChatRequest(plan.Primary.Provider, client.Protocol.BuildBody(plan.Primary.Model, _request), key)) { }
        var events = await DecodeAsync(client, key, _openAIStream, _request);
        _pool.ReportSuccess(key);
        return events;
    }

    [Benchmark(Description = "whole request: resolve, pick, build, decode (Anthropic)")]
    public async Task<int> WholeRequestAnthropic()
    {
        var plan = _resolver.Resolve(_snapshot, _anthropicRequest);
        var client = _clients.For(plan.Primary.Provider.Standard);
        var key = _pool.TryAcquire(plan.Primary.Provider.Id, null, out _)!;
        using (client.ChatRequest(plan.Primary.Provider, client.Protocol.BuildBody(plan.Primary.Model, _anthropicRequest), key)) { }
        var events = await DecodeAsync(client, key, _anthropicStream, _anthropicRequest);
        _pool.ReportSuccess(key);
        return events;
    }

    static async Task<int> DecodeAsync(ProviderClient client, KeyLease key, byte[] body, ChatRequest request)
    {
        var decoder = client.CreateDecoder(key);
        var count = 0;
        var outputChars = 0;
        TokenUsage? usage = null;
        await foreach (var e in ReplyReader.ReadAsync(new MemoryStream(body, writable: false), decoder, 1 << 24, 1 << 20, CancellationToken.None))
        {
            count++;
            if (e is ContentDelta c) outputChars += c.Text.Length;
            else if (e is UsageDelta u) usage = u.Usage;
        }
        return count + outputChars + (usage?.Total ?? request.Messages.Count);
    }

    static readonly string[] Words = ["The ", "router ", "picks ", "a ", "key, ", "sends ", "the ", "request ", "and ", "streams ", "tokens ", "back.\n"];

    internal static string CannedOpenAI(int tokens)
    {
        var sb = new StringBuilder();
        const string head = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1753357673,\"model\":\"gpt-4o\",\"choices\":[";
        sb.Append("data: ").Append(head).Append("{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"usage\":null}\n\n");
        for (var i = 0; i < tokens; i++)
            sb.Append("data: ").Append(head).Append("{\"index\":0,\"delta\":{\"content\":\"").Append(Words[i % Words.Length].Replace("\n", "\\n")).Append("\"},\"finish_reason\":null}],\"usage\":null}\n\n");
        sb.Append("data: ").Append(head).Append("{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n");
        sb.Append("data: ").Append(head).Append("],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":").Append(tokens).Append(",\"total_tokens\":").Append(20 + tokens).Append("}}\n\n");
        sb.Append("data: [DONE]\n\n");
        return sb.ToString();
    }

    internal static string CannedAnthropic(int tokens)
    {
        var sb = new StringBuilder();
        sb.Append("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":20,\"output_tokens\":1}}}\n\n");
        sb.Append("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
        sb.Append("event: ping\ndata: {\"type\":\"ping\"}\n\n");
        for (var i = 0; i < tokens; i++)
            sb.Append("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"").Append(Words[i % Words.Length].Replace("\n", "\\n")).Append("\"}}\n\n");
        sb.Append("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
        sb.Append("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":").Append(tokens).Append("}}\n\n");
        sb.Append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
        return sb.ToString();
    }

    sealed class Fixed<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;
        public T Get(string? name) => value;
        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }
}
