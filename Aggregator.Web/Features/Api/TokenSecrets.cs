using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Aggregator.Web.Features.Api;

/// <summary>The shape of a personal access token: <c>agg-</c> + 32 random bytes (base64url), stored only as its SHA-256.</summary>
public static class TokenSecrets
{
    public const string Marker = "agg-";
    /// <summary>agg- plus 43 base64url characters.</summary>
    public const int Length = 47;

    public static string Generate() => Marker + WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    /// <summary>Lowercase hex SHA-256. A 256-bit random secret cannot be guessed, so no salt or slow hash is needed.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>What lists show: the marker and the first 8 characters after it.</summary>
    public static string PrefixOf(string secret) => secret[..(Marker.Length + 8)];

    /// <summary>Cheap check before hashing: anything else is not one of ours.</summary>
    public static bool LooksLikeToken(string? value) =>
        value is { Length: Length } && value.StartsWith(Marker, StringComparison.Ordinal);
}
