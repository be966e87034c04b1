using Aggregator.Web.Data;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Aggregator.Web.Tests.Accounts;

public sealed class SecretsAtRestTests(AppFactory app) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task Api_keys_are_stored_encrypted_and_a_raw_read_of_the_table_finds_no_plaintext()
    {
        const string secret = "sk-or-v1-7f3a9c2e5b8d4f1a6c0e9b2d7a4f8c3e";
        long id;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var box = scope.ServiceProvider.GetRequiredService<SecretBox>();
            var provider = new Provider { Name = "rest-" + Guid.NewGuid().ToString("N")[..8], DisplayName = "At rest", BaseUrl = "http://127.0.0.1:9/v1" };
            var key = new ApiKey
            {
                Provider = provider, Name = "main", EncryptedSecret = box.Encrypt(secret),
                SecretFingerprint = box.Fingerprint(secret), MaskedHint = SecretBox.Mask(secret),
            };
            db.ApiKeys.Add(key);
            await db.SaveChangesAsync();
            id = key.Id;
        }

        // What a database dump would show: every column of the row, as text, read around EF.
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT k::text, k."EncryptedSecret", k."MaskedHint" FROM "ApiKeys" k WHERE k."Id" = @id""", connection);
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var row = reader.GetString(0);
        Assert.DoesNotContain(secret, row);
        Assert.DoesNotContain(secret[6..^4], row);            // not even the middle of it
        Assert.DoesNotContain(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(secret)), row);
        Assert.StartsWith("v1:", reader.GetString(1));
        Assert.Equal("sk-…8c3e", reader.GetString(2));       // the UI's masked hint only

        // The app itself can still read it back.
        await using var check = app.Services.CreateAsyncScope();
        var stored = await check.ServiceProvider.GetRequiredService<AppDbContext>().ApiKeys.SingleAsync(k => k.Id == id);
        Assert.Equal(secret, check.ServiceProvider.GetRequiredService<SecretBox>().Decrypt(stored.EncryptedSecret));
    }

    [Fact]
    public void The_same_secret_encrypts_differently_each_time_and_tampering_is_detected()
    {
        var box = app.Services.GetRequiredService<SecretBox>();
        var a = box.Encrypt("sk-same-secret-123456");
        var b = box.Encrypt("sk-same-secret-123456");
        Assert.NotEqual(a, b);
        var bytes = Convert.FromBase64String(a[3..]);
        bytes[^1] ^= 1;
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => box.Decrypt("v1:" + Convert.ToBase64String(bytes)));
    }
}
