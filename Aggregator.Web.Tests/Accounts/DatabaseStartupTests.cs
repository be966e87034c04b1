using System.Net.Sockets;
using Aggregator.Web.Tests.Infrastructure;

namespace Aggregator.Web.Tests.Accounts;

public sealed class DatabaseStartupTests
{
    static int ClosedPort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port; // closed again when disposed
    }

    [Fact]
    public async Task Unreachable_database_exits_non_zero_naming_ConnectionStrings_Postgres_without_leaking_the_password()
    {
        var data = Directory.CreateTempSubdirectory("aggregator-unreachable-");
        try
        {
            await using var app = AppProcess.Start(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Postgres"] = $"Host=127.0.0.1;Port={ClosedPort()};Username=app;Password=hunter2-secret;Database=agg;Timeout=3",
                ["Secrets:Key"] = Convert.ToBase64String(new byte[32]),
                ["Data:Folder"] = data.FullName,
            });

            Assert.NotEqual(0, await app.ExitCodeAsync());
            Assert.Contains("ConnectionStrings:Postgres", app.StandardError);
            Assert.DoesNotContain("hunter2-secret", app.StandardError + app.StandardOutput);
        }
        finally { data.Delete(recursive: true); }
    }
}
