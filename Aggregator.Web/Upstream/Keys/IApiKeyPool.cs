using Aggregator.Web.Upstream.Protocols;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Upstream.Keys;

/// <summary>A usable key: one instance per key, reused by every request that picks it. Never log <see cref="Secret"/>.</summary>
public sealed class KeyLease(long keyId, int providerId, string secret)
{
    public long KeyId { get; } = keyId;
    public int ProviderId { get; } = providerId;
    public string Secret { get; } = secret;
    /// <summary>"Bearer …", built once per key rather than per request.</summary>
    public string BearerValue { get; } = "Bearer " + secret;
    /// <summary>Scrubs this key from provider text; built on the first failure, then reused.</summary>
    public SecretRedactor Redactor => _redactor ??= new SecretRedactor(Secret);
    SecretRedactor? _redactor;
    public override string ToString() => $"key {KeyId}";
}

/// <summary>Why an upstream attempt failed, as far as the key is concerned.</summary>
public enum KeyFault
{
    /// <summary>401/403 invalid or revoked key: disable it.</summary>
    InvalidKey,
    /// <summary>The account has no credit (insufficient_quota, 402): long cooldown, no retry on it.</summary>
    QuotaExhausted,
    /// <summary>429: honour Retry-After; repeated ones cool the key down.</summary>
    RateLimited,
    /// <summary>5xx, 529, in-band server errors.</summary>
    ServerError,
    Timeout,
    /// <summary>Connection refused or reset, unreadable reply: the provider's problem, not the key's.</summary>
    Transport,
}

/// <summary>Live health of one key, what the admin keys page shows.</summary>
public sealed record KeyHealth(
    long KeyId, int ProviderId, bool Active, DateTime? CooldownUntil, int ConsecutiveFailures,
    DateTime? LastUsedAt, string? DisabledReason, DateTime? DisabledAt);

/// <summary>Counters and state of one key to write to the database (deltas are added, state is set).</summary>
public sealed record KeyWrite(
    long KeyId, long RequestDelta, int FailureDelta, DateTime? LastUsedAt, int ConsecutiveFailures,
    bool WritesState, bool Active, string? DisabledReason, DateTime? DisabledAt, DateTime? CooldownUntil, long StateVersion);

/// <summary>A pick: the key, or none and (when every key is cooling down) when one comes back, by this node's clock.</summary>
public readonly record struct KeyPick(KeyLease? Key, DateTime? RetryAt);

/// <summary>
/// The key pool: least-recently-used healthy key per provider, picked atomically. <see cref="ApiKeyPool"/> in
/// one process; <see cref="RedisApiKeyPool"/> across nodes (the pick, cooldowns and disables live in Redis).
/// </summary>
public interface IApiKeyPool
{
    /// <summary>Adopts the stored key rows (new, changed, deleted keys) without losing rotation state.</summary>
    void Sync(IReadOnlyList<KeyRow> rows, DateTime rowsReadAt);

    /// <summary>The least recently used healthy key not in <paramref name="exclude"/>, marked used.</summary>
    /// <returns>When none is free: the earliest end of a cooldown among the excluded-or-cooling keys, if any.</returns>
    ValueTask<KeyPick> AcquireAsync(int providerId, IReadOnlyCollection<long>? exclude, CancellationToken cancellationToken);

    /// <summary>Records a success; clears only a cooldown that already ran out (one set meanwhile by a failure stays).</summary>
    ValueTask ReportSuccessAsync(KeyLease lease);
    /// <summary>Records a failure; returns the key's health afterwards.</summary>
    ValueTask<KeyHealth> ReportFailureAsync(KeyLease lease, KeyFault fault, TimeSpan? retryAfter, string detail);

    /// <summary>Keys not disabled (cooling down or not).</summary>
    int CountActive(int providerId);
    KeyHealth? Describe(long keyId);
    IReadOnlyList<KeyHealth> Describe();

    /// <summary>Active keys in a cooldown that a probe may lift (not quota cooldowns).</summary>
    IReadOnlyList<KeyLease> KeysToProbe();
    ValueTask ReportProbeAsync(KeyLease lease, bool healthy);

    /// <summary>Signalled when key state changed and should be written promptly.</summary>
    Task WaitForChangesAsync(TimeSpan timeout, CancellationToken cancellationToken);
    /// <summary>This node's counters (deltas) and state changes to write; every node writes its own.</summary>
    IReadOnlyList<KeyWrite> TakeWrites();
    void MarkWritten(IReadOnlyList<KeyWrite> writes, DateTime writtenAt);
    void ReturnUnwritten(IReadOnlyList<KeyWrite> writes);
}
