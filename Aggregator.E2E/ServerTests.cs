using Aggregator.E2E.Infrastructure;

namespace Aggregator.E2E;

public sealed class ServerTests(KestrelApp app) : IClassFixture<KestrelApp>
{
    [Fact]
    public async Task App_listens_on_a_real_dynamic_loopback_port()
    {
        Assert.True(app.BaseUrl.IsLoopback, app.BaseUrl.ToString());
        Assert.NotEqual(5000, app.BaseUrl.Port); // a dynamic port: a test that hard-codes a URL cannot reach the app
        // A plain socket client, not the in-memory TestServer handler: proves Kestrel is really listening.
        using var http = new HttpClient { BaseAddress = app.BaseUrl };
        var response = await http.GetAsync("/Account/Login");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("default-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
        var css = await http.GetAsync("/dist/site.css");
        Assert.Equal(System.Net.HttpStatusCode.OK, css.StatusCode);
    }
}
