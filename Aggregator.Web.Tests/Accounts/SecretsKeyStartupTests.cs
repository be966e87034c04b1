using System.Security.Cryptography;
using Aggregator.Web.Data;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Aggregator.Web.Tests.Accounts;

/// <summary>The real entry point with a missing, malformed or wrong Secrets:Key: a clear refusal, never silent data loss.</summary>
public sealed class SecretsKeyStartupTests
{
    static Dictionary<string, string?> Settings(AppFactory db, string? key) => new()
    {
        ["ConnectionStrings:Postgres"] = db.ConnectionString,
        ["ConnectionStrings:Redis"] = "",
        ["Secrets:Key"] = key,
        ["Data:Folder"] = db.DataFolder,
    };

    [Fact]
    public async Task Missing_key_with_PostgreSQL_stops_start_up_naming_Secrets_Key()
    {
        await using var db = new AppFactory(); // only for its fresh database name, dropped on dispose
        await using var app = AppProcess.Start(Settings(db, key: null));

        Assert.NotEqual(0, await app.ExitCodeAsync());
        Assert.Contains("Secrets:Key", app.StandardError);
        Assert.Contains("Secrets__Key", app.StandardError); // says how to set it from the environment
        Assert.False(File.Exists(Path.Combine(db.DataFolder, SecretsExtensions.KeyFileName)), "no key may be invented for PostgreSQL");
    }

    [Theory]
    [InlineData("not base64 at all!")]
    [InlineData("c2hvcnQ=")] // valid base64, 5 bytes
    public async Task Malformed_key_stops_start_up_naming_Secrets_Key(string key)
    {
        await using var db = new AppFactory();
        await using var app = AppProcess.Start(Settings(db, key));

        Assert.NotEqual(0, await app.ExitCodeAsync());
        Assert.Contains("Secrets:Key", app.StandardError);
        Assert.DoesNotContain(key, app.StandardError + app.StandardOutput); // a key, even a bad one, is never echoed
    }

    [Fact]
    public async Task Wrong_key_for_stored_api_keys_stops_start_up_and_changes_nothing()
    {
        await using var db = new AppFactory();
        // Store a key with the factory's own Secrets:Key.
        await using (var scope = db.Services.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var box = scope.ServiceProvider.GetRequiredService<SecretBox>();
            var provider = new Provider { Name = "p", DisplayName = "P", BaseUrl = "http://127.0.0.1:9/v1" };
            context.Providers.Add(provider);
            context.ApiKeys.Add(new ApiKey
            {
                Provider = provider, Name = "main", EncryptedSecret = box.Encrypt("sk-test-0123456789abcdef"),
                SecretFingerprint = box.Fingerprint("sk-test-0123456789abcdef"), MaskedHint = SecretBox.Mask("sk-test-0123456789abcdef"),
            });
            await context.SaveChangesAsync();
        }
        var before = await SnapshotAsync(db.ConnectionString);

        var otherKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        await using (var app = AppProcess.Start(Settings(db, otherKey)))
        {
            Assert.NotEqual(0, await app.ExitCodeAsync());
            Assert.Contains("Secrets:Key", app.StandardError);
            Assert.Contains("nothing was changed", app.StandardError);
        }

        Assert.Equal(before, await SnapshotAsync(db.ConnectionString));

        // The right key still starts (so the refusal above was about the key, nothing else).
        await using var right = AppProcess.Start(Settings(db, db.SecretsKey));
        await right.ListeningAsync();
    }

    static async Task<string> SnapshotAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT string_agg(k::text, '|' ORDER BY k."Id") FROM "ApiKeys" k""", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
