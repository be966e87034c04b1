using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Security;

/// <summary>
/// The Data Protection key ring (which signs the auth cookie) lives in the database; each key is
/// sealed with AES-256-GCM under a key derived from <c>Secrets:Key</c>, so a database dump alone
/// cannot mint a session.
/// </summary>
public static partial class KeyRingEncryption
{
    internal const string Purpose = "aggregator/data-protection-key-ring";
    static readonly XNamespace Ns = "urn:aggregator:key-ring";

    public static IServiceCollection AddKeyRingEncryption(this IServiceCollection services)
    {
        services.AddOptions<KeyManagementOptions>()
            .Configure<SecretsKey>((o, key) => o.XmlEncryptor = new KeyRingEncryptor(key));
        return services;
    }

    internal static XElement Seal(byte[] key, XElement plaintext)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext.ToString(SaveOptions.DisableFormatting));
        var blob = new byte[12 + 16 + plain.Length];
        RandomNumberGenerator.Fill(blob.AsSpan(0, 12));
        using (var aes = new AesGcm(key, 16))
            aes.Encrypt(blob.AsSpan(0, 12), plain, blob.AsSpan(28), blob.AsSpan(12, 16));
        return new XElement(Ns + "sealedKey",
            new XComment(" AES-256-GCM under a key derived from Secrets:Key, which is never stored in the database. "),
            new XElement(Ns + "value", Convert.ToBase64String(blob)));
    }

    internal static XElement Open(byte[] key, XElement sealedKey)
    {
        var blob = Convert.FromBase64String((string?)sealedKey.Element(Ns + "value") ?? throw new CryptographicException("Sealed key has no value."));
        if (blob.Length < 28) throw new CryptographicException("Sealed key is truncated.");
        var plain = new byte[blob.Length - 28];
        using (var aes = new AesGcm(key, 16))
            aes.Decrypt(blob.AsSpan(0, 12), blob.AsSpan(28), blob.AsSpan(12, 16), plain);
        return XElement.Parse(Encoding.UTF8.GetString(plain));
    }

    /// <summary>
    /// Keys written before encryption existed are stored in the clear, and a dump holding one could still
    /// sign a cookie the server accepts. Revoke them once: a new, sealed key takes over (everyone signs in again once).
    /// </summary>
    public static void RevokeUnsealedKeys(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<KeyManagementOptions>>().Value;
        var keys = app.Services.GetRequiredService<IKeyManager>();
        var plaintextIds = (options.XmlRepository?.GetAllElements() ?? [])
            .Where(e => e.Name.LocalName == "key" && e.Descendants().Any(d => d.Name.LocalName == "masterKey"))
            .Select(e => Guid.TryParse((string?)e.Attribute("id"), out var id) ? id : Guid.Empty)
            .ToHashSet();
        var revoked = 0;
        foreach (var key in keys.GetAllKeys().Where(k => plaintextIds.Contains(k.KeyId) && !k.IsRevoked))
        {
            keys.RevokeKey(key.KeyId, "Stored unencrypted; replaced by a key sealed with Secrets:Key.");
            revoked++;
        }
        if (revoked > 0)
            LogRevoked(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Aggregator.Startup"), revoked);
    }

    [LoggerMessage(LogLevel.Warning, "Revoked {Count} unencrypted Data Protection key(s) found in the database; signed-in users must log in again once")]
    static partial void LogRevoked(ILogger logger, int count);
}

/// <summary>Seals each new Data Protection key before it is written to the database.</summary>
public sealed class KeyRingEncryptor(SecretsKey secrets) : IXmlEncryptor
{
    readonly byte[] _key = secrets.Derive(KeyRingEncryption.Purpose);

    public EncryptedXmlInfo Encrypt(XElement plaintextElement) =>
        new(KeyRingEncryption.Seal(_key, plaintextElement), typeof(KeyRingDecryptor));
}

/// <summary>Opens a sealed key. Data Protection creates it by type name (from the stored XML) with the app's services.</summary>
public sealed class KeyRingDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var secrets = services.GetService<SecretsKey>()
            ?? throw new CryptographicException("The key ring is sealed with Secrets:Key, which is not configured here.");
        return KeyRingEncryption.Open(secrets.Derive(KeyRingEncryption.Purpose), encryptedElement);
    }
}
