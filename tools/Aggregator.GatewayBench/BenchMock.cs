using Aggregator.MockUpstream;

namespace Aggregator.GatewayBench;

/// <summary>
/// The mock upstream (target a) in this process, answering at once: no first-token delay, no pacing, nothing recorded.
/// Like <see cref="MockUpstreamServer"/>, but on a port of our choosing so a gateway can be pointed at it.
/// </summary>
public sealed class BenchMock : IAsyncDisposable
{
    readonly WebApplication _app;

    BenchMock(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }
    public string OpenAIUrl => BaseUrl + "/openai/v1";

    public static async Task<BenchMock> StartAsync(int port, int replyTokens, CancellationToken ct)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddRoutingCore();
        builder.Services.AddMockUpstream(o =>
        {
            o.FirstTokenDelay = TimeSpan.Zero;
            o.TokensPerSecond = 0;
            o.ReplyTokens = replyTokens;
            o.MaxRecorded = 0;
        });
        var app = builder.Build();
        app.MapMockUpstream();
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new BenchMock(app, address.TrimEnd('/'));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
