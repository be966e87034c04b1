using System.Net;
using System.Net.Http.Headers;

namespace Aggregator.GatewayBench;

/// <summary>
/// The bare pass-through relay (target b): no auth, no parsing, one pooled HttpClient, response bytes copied as they
/// arrive. It is the physical limit of relaying in .NET, the bar the gateway is measured against.
/// </summary>
public static class Forwarder
{
    public const string ReadyLine = "Forwarder listening on ";

    /// <summary><c>forward --upstream http://…/openai/v1 [--urls http://127.0.0.1:0]</c>; prints <see cref="ReadyLine"/> + its URL.</summary>
    public static async Task RunAsync(string[] args)
    {
        var upstream = ArgValue(args, "--upstream") ?? throw new ArgumentException("forward needs --upstream <base url>.");
        var chatUrl = new Uri(upstream.TrimEnd('/') + "/chat/completions");

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(ArgValue(args, "--urls") ?? "http://127.0.0.1:0");
        var app = builder.Build();

        using var client = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        }) { Timeout = Timeout.InfiniteTimeSpan };

        app.MapPost("/v1/chat/completions", async (HttpContext http) =>
        {
            var ct = http.RequestAborted;
            using var request = new HttpRequestMessage(HttpMethod.Post, chatUrl) { Content = new StreamContent(http.Request.Body) };
            request.Content.Headers.ContentLength = http.Request.ContentLength;
            if (http.Request.ContentType is { } contentType) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            if (http.Request.Headers.Authorization is [{ } authorization]) request.Headers.TryAddWithoutValidation("Authorization", authorization);

            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            http.Response.StatusCode = (int)response.StatusCode;
            http.Response.ContentType = response.Content.Headers.ContentType?.ToString();
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            // Kestrel sends each write at once (no response buffering), so every upstream read goes straight out.
            await body.CopyToAsync(http.Response.Body, ct);
        });

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        Console.WriteLine(ReadyLine + address.TrimEnd('/'));
        await app.WaitForShutdownAsync();
    }

    static string? ArgValue(string[] args, string name) =>
        Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
