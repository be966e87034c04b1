using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.MockUpstream;

/// <summary>A mock upstream on real Kestrel (127.0.0.1, a free port), for tests and benchmarks.</summary>
public sealed class MockUpstreamServer : IAsyncDisposable
{
    readonly WebApplication _app;

    MockUpstreamServer(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
        State = app.Services.GetRequiredService<MockUpstreamState>();
    }

    /// <summary>e.g. <c>http://127.0.0.1:41234</c>, no trailing slash.</summary>
    public string BaseUrl { get; }

    public MockUpstreamState State { get; }

    public string OpenAIUrl => BaseUrl + "/openai/v1";
    public string OpenRouterUrl => BaseUrl + "/openrouter/api/v1";
    public string AiHubMixUrl => BaseUrl + "/aihubmix/v1";
    public string AnthropicUrl => BaseUrl + "/anthropic/v1";

    public static async Task<MockUpstreamServer> StartAsync(Action<MockUpstreamOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        // Empty builder: no configuration files (and their watchers), no logging; tests start many of these.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 64 * 1024 * 1024).UseUrls("http://127.0.0.1:0");
        builder.Services.AddRoutingCore();
        builder.Services.AddMockUpstream(configure);
        var app = builder.Build();
        app.MapMockUpstream();
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new MockUpstreamServer(app, address.TrimEnd('/'));
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await _app.StopAsync(timeout.Token); }
        catch (OperationCanceledException) { }
        await _app.DisposeAsync();
    }
}
