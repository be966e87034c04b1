using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Aggregator.Web.Tests.Sync;

/// <summary>The app on real PostgreSQL with fast retries, plus a mock upstream on real Kestrel.</summary>
public sealed class SyncAppFactory : AppFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Sync:RetryBaseDelay"] = "00:00:00.050",
        ["Sync:MaxRetries"] = "3",
        ["Sync:AttemptTimeout"] = "00:00:05",
        ["Sync:SchedulerEnabled"] = "false",
    };
}

public static class SyncTestData
{
    public static async Task<(Provider Provider, ApiKey Key)> AddProviderAsync(
        this AppFactory app, string baseUrl, ModelListShape shape = ModelListShape.Auto, ApiStandard standard = ApiStandard.OpenAI,
        string secret = "sk-test-0000000000000001", string? modelsUrl = null)
    {
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var box = scope.ServiceProvider.GetRequiredService<SecretBox>();
        var provider = new Provider
        {
            Name = "p" + Guid.NewGuid().ToString("N")[..10], DisplayName = "Test provider", Kind = ProviderKind.Aggregator,
            ApiStandard = standard, BaseUrl = baseUrl, ModelsUrl = modelsUrl, ListShape = shape,
        };
        var key = new ApiKey
        {
            Provider = provider, Name = "k", EncryptedSecret = box.Encrypt(secret),
            SecretFingerprint = box.Fingerprint(secret), MaskedHint = SecretBox.Mask(secret),
        };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync();
        return (provider, key);
    }

    /// <summary>Every model row's id and PostgreSQL row version (xmin): any UPDATE changes it.</summary>
    public static async Task<Dictionary<long, string>> RowVersionsAsync(this AppFactory app, int providerId)
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT "Id", xmin::text FROM "Models" WHERE "ProviderId" = @p""", connection);
        command.Parameters.AddWithValue("p", providerId);
        var versions = new Dictionary<long, string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) versions[reader.GetInt64(0)] = reader.GetString(1);
        return versions;
    }

    public static async Task<T> WithDbAsync<T>(this AppFactory app, Func<AppDbContext, Task<T>> query)
    {
        using var scope = app.Services.CreateScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    public static Task<int> AvailableModelsAsync(this AppFactory app, int providerId) =>
        app.WithDbAsync(db => db.Models.CountAsync(m => m.ProviderId == providerId && m.Available));
}
