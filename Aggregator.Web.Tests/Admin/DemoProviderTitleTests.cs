using System.Net;
using System.Text.RegularExpressions;
using Aggregator.Web.Data;
using Aggregator.Web.Tests.Demo;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Admin;

public sealed partial class DemoProviderTitleTests(DemoAppFactory app) : IClassFixture<DemoAppFactory>
{
    [Fact]
    public async Task The_demo_providers_title_does_not_read_Demo_Demo()
    {
        var admin = await app.RegisterAsync($"owner-{Guid.NewGuid():N}@example.com"); // first account: the Admin
        await using var scope = app.Services.CreateAsyncScope();
        var id = await scope.ServiceProvider.GetRequiredService<AppDbContext>().Providers.Where(p => p.IsDemo).Select(p => p.Id).SingleAsync();

        var response = await admin.GetAsync($"/Admin/Providers/Details/{id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var heading = Heading().Match(await response.Content.ReadAsStringAsync()).Groups[1].Value;
        var text = Regex.Replace(Tags().Replace(heading, " "), @"\s+", " ").Trim();
        Assert.Equal("Demo built-in mock", text);
    }

    [GeneratedRegex("<h1[^>]*>(.*?)</h1>", RegexOptions.Singleline)]
    private static partial Regex Heading();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tags();
}
