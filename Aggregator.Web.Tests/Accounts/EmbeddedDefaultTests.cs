using System.Net;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Infrastructure;

namespace Aggregator.Web.Tests.Accounts;

/// <summary>No PostgreSQL configured: the real program runs on SQLite in Data:Folder with a generated key file.</summary>
public sealed class EmbeddedDefaultTests
{
    [Fact]
    public async Task Without_PostgreSQL_the_app_creates_its_database_and_an_owner_only_key_file_and_serves()
    {
        var data = Directory.CreateTempSubdirectory("aggregator-embedded-");
        try
        {
            var settings = new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = "", ["ConnectionStrings:Redis"] = "", ["Data:Folder"] = data.FullName };
            string key;
            await using (var app = AppProcess.Start(settings))
            {
                var url = await app.ListeningAsync();
                using var http = new HttpClient { BaseAddress = url };
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/Account/Register")).StatusCode);

                Assert.True(File.Exists(Path.Combine(data.FullName, "aggregator.db")));
                var keyFile = Path.Combine(data.FullName, SecretsExtensions.KeyFileName);
                Assert.True(File.Exists(keyFile));
                if (!OperatingSystem.IsWindows())
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
                key = await File.ReadAllTextAsync(keyFile);
                Assert.Equal(32, Convert.FromBase64String(key.Trim()).Length);
                Assert.DoesNotContain(key.Trim(), app.StandardOutput + app.StandardError); // never logged
            }

            // A restart reuses the key instead of generating a new one (stored secrets stay readable).
            await using (var again = AppProcess.Start(settings))
            {
                await again.ListeningAsync();
                Assert.Equal(key, await File.ReadAllTextAsync(Path.Combine(data.FullName, SecretsExtensions.KeyFileName)));
            }
        }
        finally { data.Delete(recursive: true); }
    }
}
