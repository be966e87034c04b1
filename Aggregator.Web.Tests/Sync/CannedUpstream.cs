using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Sync;

/// <summary>A one-route server answering a fixed body: for lists no real provider or mock switch produces.</summary>
public sealed class CannedUpstream : IAsyncDisposable
{
    readonly WebApplication _app;
    public string BaseUrl { get; }

    CannedUpstream(WebApplication app, string baseUrl) { _app = app; BaseUrl = baseUrl; }

    public static async Task<CannedUpstream> StartAsync(string body, string contentType = "application/json")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/v1/models", () => Results.Text(body, contentType));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new CannedUpstream(app, address + "/v1");
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
