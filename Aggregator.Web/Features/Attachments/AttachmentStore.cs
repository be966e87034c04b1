using System.Text.RegularExpressions;

namespace Aggregator.Web.Features.Attachments;

/// <summary>
/// Where attachment bytes live: a folder in the embedded default, PostgreSQL rows in production.
/// Keys are made by the app (<see cref="StorageKeys"/>); a key that could leave the store is refused.
/// </summary>
public interface IAttachmentStore
{
    Task PutAsync(string key, byte[] data, CancellationToken ct);
    /// <summary>The stored bytes, or null when nothing is stored under <paramref name="key"/>.</summary>
    Task<Stream?> OpenAsync(string key, CancellationToken ct);
    /// <summary>Removes the bytes; a key with nothing stored is no error (sweeps may meet twice).</summary>
    Task DeleteAsync(string key, CancellationToken ct);
}

public static partial class StorageKeys
{
    public static string Original(Guid attachmentId) => $"a/{attachmentId:N}";
    public static string Thumbnail(Guid attachmentId) => $"t/{attachmentId:N}";

    /// <summary>Lower-case letters, digits, '-', '_' and single '/' between segments: no "..", no root, no backslash.</summary>
    public static string Checked(string key) =>
        SafeKey().IsMatch(key) ? key : throw new ArgumentException($"Not a storage key: '{key}'.", nameof(key));

    [GeneratedRegex(@"\A[a-z0-9_-]{1,64}(/[a-z0-9_-]{1,64}){0,3}\z")]
    private static partial Regex SafeKey();
}
