using System.Net;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Infrastructure;

namespace Aggregator.Web.Tests.Accounts;

/// <summary>No PostgreSQL configured: the real program runs on SQLite in Data:Folder with a generated key file.</summary>
public sealed class EmbeddedDefaultTests
{
    [Fact]
    public async Task Without_PostgreSQL_the_app_creates_an_owner_only_data_folder_database_and_key_file_and_serves()
    {
        var parent = Directory.CreateTempSubdirectory("aggregator-embedded-");
        var data = new DirectoryInfo(Path.Combine(parent.FullName, "data")); // created by the app
        try
        {
            var settings = new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = "", ["ConnectionStrings:Redis"] = "", ["Data:Folder"] = data.FullName };
            string key;
            await using (var app = AppProcess.Start(settings))
            {
                var url = await app.ListeningAsync();
                using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = url };
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/Account/Register")).StatusCode);
                await RegisterAsync(http); // writes: any journal or WAL file SQLite makes must be owner-only too
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/")).StatusCode); // the per-request session check on SQLite

                Assert.True(File.Exists(Path.Combine(data.FullName, "aggregator.db")));
                var keyFile = Path.Combine(data.FullName, SecretsExtensions.KeyFileName);
                Assert.True(File.Exists(keyFile));
                if (!OperatingSystem.IsWindows())
                {
                    // Nobody else on the machine can read the database or the key that decrypts it.
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(data.FullName));
                    var files = Directory.GetFiles(data.FullName);
                    foreach (var file in files)
                        Assert.True((UnixFileMode.UserRead | UnixFileMode.UserWrite) == File.GetUnixFileMode(file), $"{file} is {File.GetUnixFileMode(file)}");
                }
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
        finally { parent.Delete(recursive: true); }
    }

    static async Task RegisterAsync(HttpClient http)
    {
        var page = await http.GetStringAsync("/Account/Register");
        var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        var form = new Dictionary<string, string>
        {
            ["Input.Email"] = $"embedded-{Guid.NewGuid():N}@example.com", ["Input.Password"] = "Passw0rd!x", ["Input.ConfirmPassword"] = "Passw0rd!x",
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
        };
        Assert.Equal(HttpStatusCode.Redirect, (await http.PostAsync("/Account/Register", new FormUrlEncodedContent(form))).StatusCode);
    }
}
