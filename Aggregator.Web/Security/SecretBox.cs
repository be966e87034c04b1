using System.Security.Cryptography;
using System.Text;
using Aggregator.Web.Data;

namespace Aggregator.Web.Security;

/// <summary>
/// Encrypts provider API keys at rest (AES-256-GCM) with a key that never touches the database:
/// <c>Secrets:Key</c> from configuration or environment, or in embedded mode a file generated
/// once beside the SQLite database with owner-only permissions.
/// </summary>
public sealed class SecretBox
{
    const string Prefix = "v1:";
    readonly byte[] _encryptionKey;
    readonly byte[] _fingerprintKey;

    public SecretBox(byte[] masterKey)
    {
        if (masterKey.Length != 32)
            throw new StartupException("Secrets:Key must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`).");
        _encryptionKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, masterKey, 32, info: "aggregator/api-key-encryption"u8.ToArray());
        _fingerprintKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, masterKey, 32, info: "aggregator/api-key-fingerprint"u8.ToArray());
    }

    public string Encrypt(string plaintext)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var blob = new byte[12 + 16 + plain.Length];
        var nonce = blob.AsSpan(0, 12);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_encryptionKey, 16);
        aes.Encrypt(nonce, plain, blob.AsSpan(28), blob.AsSpan(12, 16));
        return Prefix + Convert.ToBase64String(blob);
    }

    /// <exception cref="CryptographicException">The value was written with another key or was tampered with.</exception>
    public string Decrypt(string ciphertext)
    {
        if (!ciphertext.StartsWith(Prefix, StringComparison.Ordinal))
            throw new CryptographicException("Unknown secret format.");
        var blob = Convert.FromBase64String(ciphertext[Prefix.Length..]);
        if (blob.Length < 28) throw new CryptographicException("Secret is truncated.");
        var plain = new byte[blob.Length - 28];
        using var aes = new AesGcm(_encryptionKey, 16);
        aes.Decrypt(blob.AsSpan(0, 12), blob.AsSpan(28), blob.AsSpan(12, 16), plain);
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>A keyed hash, so duplicates are found without decrypting and a dump reveals nothing.</summary>
    public string Fingerprint(string secret) =>
        Convert.ToHexString(HMACSHA256.HashData(_fingerprintKey, Encoding.UTF8.GetBytes(secret.Trim())))[..32].ToLowerInvariant();

    /// <summary>"sk-…abcd": enough to tell keys apart, never enough to use one.</summary>
    public static string Mask(string secret)
    {
        secret = secret.Trim();
        if (secret.Length < 12) return "…" + secret[^Math.Min(2, secret.Length)..];
        var dash = secret.IndexOf('-');
        var prefix = dash is > 0 and < 8 ? secret[..(dash + 1)] : secret[..3];
        return prefix + "…" + secret[^4..];
    }
}

/// <summary>The 32-byte master secret (<c>Secrets:Key</c> or secrets.key); each use derives its own key from it.</summary>
public sealed record SecretsKey(byte[] Value)
{
    public byte[] Derive(string purpose) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, Value, 32, info: Encoding.UTF8.GetBytes(purpose));
}

public static class SecretsExtensions
{
    public const string KeySetting = "Secrets:Key";
    public const string KeyFileName = "secrets.key";

    public static WebApplicationBuilder AddSecrets(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp => new SecretsKey(LoadKey(builder.Configuration, sp.GetRequiredService<StorageOptions>())));
        builder.Services.AddSingleton(sp => new SecretBox(sp.GetRequiredService<SecretsKey>().Value));
        builder.Services.AddKeyRingEncryption(); // the auth cookie's keys, encrypted with the same secret
        return builder;
    }

    static byte[] LoadKey(IConfiguration config, StorageOptions storage)
    {
        var configured = config[KeySetting];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            try { return Convert.FromBase64String(configured.Trim()); }
            catch (FormatException) { throw new StartupException($"{KeySetting} is not valid base64; generate one with `openssl rand -base64 32`."); }
        }
        if (!storage.IsEmbedded)
            throw new StartupException($"{KeySetting} is not set. With PostgreSQL the key that encrypts provider API keys must come from configuration or the environment (Secrets__Key); generate one with `openssl rand -base64 32`.");

        var file = Path.Combine(storage.DataFolder, KeyFileName);
        if (File.Exists(file))
        {
            try { return Convert.FromBase64String(File.ReadAllText(file).Trim()); }
            catch (FormatException) { throw new StartupException($"{file} is not a valid secrets key; restore it from a backup or set {KeySetting}."); }
        }
        var key = RandomNumberGenerator.GetBytes(32);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(file, options))
        using (var writer = new StreamWriter(stream))
            writer.Write(Convert.ToBase64String(key));
        return key;
    }

    /// <summary>Refuses to start when the configured key cannot read the stored secrets: never silent data loss.</summary>
    public static async Task VerifySecretsKeyAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var box = scope.ServiceProvider.GetRequiredService<SecretBox>();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var sample = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions
            .FirstOrDefaultAsync(db.ApiKeys.OrderBy(k => k.Id).Select(k => k.EncryptedSecret));
        if (sample is null) return;
        try { box.Decrypt(sample); }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            throw new StartupException($"{KeySetting} does not decrypt the API keys stored in the database. Set it to the key they were saved with (nothing was changed).", ex);
        }
    }
}
