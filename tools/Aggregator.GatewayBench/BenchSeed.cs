using System.Security.Cryptography;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Api;
using Aggregator.Web.Security;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.GatewayBench;

/// <summary>What the gateway under test needs to serve the bench: its settings and the token to call it with.</summary>
public sealed record BenchSetup(string DataFolder, string SecretsKey, string Token, string Model);

/// <summary>
/// Prepares the embedded SQLite database the app under test will open, before it starts (so no cache of the app
/// can hold anything older): the app's own migrations, then one OpenAI-standard provider pointing at the bench
/// mock with an encrypted key, one priced chat model, a user and a personal access token stored as the account
/// page stores it (hash only). Everything a real request meets is on: the token has an allow-list and a
/// requests-per-minute limit, the user's tier has quotas (set high enough never to refuse; see <see cref="GatewayProcess"/>).
/// </summary>
public static class BenchSeed
{
    public const string ProviderSlug = "bench";

    public static async Task<BenchSetup> CreateAsync(string mockOpenAIUrl, string model, CancellationToken ct)
    {
        var folder = Directory.CreateTempSubdirectory("aggregator-gateway-bench-").FullName;
        var key = RandomNumberGenerator.GetBytes(32);
        var options = new DbContextOptionsBuilder<SqliteDbContext>()
            .UseSqlite($"Data Source={Path.Combine(folder, "aggregator.db")};Pooling=False").Options;
        await using var db = new SqliteDbContext(options);
        await db.Database.MigrateAsync(ct);

        var box = new SecretBox(key);
        const string secret = "sk-bench-upstream-key";
        var provider = new Provider
        {
            Name = ProviderSlug, DisplayName = "Bench mock", Kind = ProviderKind.Direct, ApiStandard = ApiStandard.OpenAI,
            BaseUrl = mockOpenAIUrl, Enabled = true,
        };
        provider.Keys.Add(new ApiKey
        {
            Name = "bench key", EncryptedSecret = box.Encrypt(secret), SecretFingerprint = box.Fingerprint(secret), MaskedHint = SecretBox.Mask(secret),
        });
        var now = DateTime.UtcNow;
        provider.Models.Add(new AiModel
        {
            ModelId = model, DisplayName = model, Type = ModelType.Chat, TierRequired = Tier.Free, ContextWindow = 128_000,
            InputPricePerMTok = 2.5m, OutputPricePerMTok = 10m, FirstSeenAt = now, LastSeenAt = now, UpdatedAt = now, ContentHash = "bench",
        });
        db.Providers.Add(provider);

        var user = new AppUser
        {
            UserName = "bench@example.invalid", NormalizedUserName = "BENCH@EXAMPLE.INVALID",
            Email = "bench@example.invalid", NormalizedEmail = "BENCH@EXAMPLE.INVALID", EmailConfirmed = true,
            SecurityStamp = Guid.NewGuid().ToString("N"), Tier = Tier.Max,
        };
        db.Users.Add(user);
        var token = TokenSecrets.Generate();
        db.ApiTokens.Add(new ApiToken
        {
            UserId = user.Id, Name = "gateway bench", Prefix = TokenSecrets.PrefixOf(token), SecretHash = TokenSecrets.Hash(token),
            AllowedModels = ModelAllowList.Parse(ProviderSlug + "/*").Stored, RequestsPerMinute = 100_000_000,
            ExpiresAt = now.AddDays(1),
        });
        await db.SaveChangesAsync(ct);
        return new BenchSetup(folder, Convert.ToBase64String(key), token, ProviderSlug + "/" + model);
    }
}
