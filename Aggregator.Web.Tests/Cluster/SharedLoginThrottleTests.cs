using System.Net;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Tests.Security;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>The login throttle counts once for the cluster: alternating nodes does not buy a guesser more attempts.</summary>
public sealed class SharedLoginThrottleTests : IAsyncLifetime
{
    readonly ThrottledApp _a = new();
    SecondNode _b = null!;

    public Task InitializeAsync()
    {
        _a.StartServer();
        _b = new SecondNode(_a);
        _b.StartServer();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _b.DisposeAsync();
        await _a.DisposeAsync();
    }

    static Dictionary<string, string> Form(string email, string password) => new() { ["Input.Email"] = email, ["Input.Password"] = password };

    [Fact]
    public async Task Guesses_at_one_account_alternating_between_nodes_share_one_limit()
    {
        var email = $"owner-{Guid.NewGuid():N}@example.com";
        await _a.RegisterAsync(email);
        // Both nodes see the same client address (none, in the test server): one guesser.
        var onA = _a.CreateBrowser();
        var onB = _b.CreateBrowser();
        for (var i = 0; i < ThrottledApp.PerAccount; i++)
        {
            var response = await (i % 2 == 0 ? onA : onB).PostFormAsync("/Account/Login", Form(email, $"Guess-{i}-passw0rd"));
            Assert.Contains("Wrong email or password.", await response.Content.ReadAsStringAsync());
        }
        foreach (var node in new[] { onA, onB })
        {
            var throttled = await node.PostFormAsync("/Account/Login", Form(email, "Passw0rd!x"));
            Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
            Assert.True(int.Parse(throttled.Headers.GetValues("Retry-After").Single()) > 0);
        }
    }
}
