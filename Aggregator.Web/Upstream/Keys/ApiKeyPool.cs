using System.Security.Cryptography;
using Aggregator.Web.Security;
using Microsoft.Extensions.Options;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Upstream.Keys;

/// <summary>
/// In-process <see cref="IApiKeyPool"/> (one node; and each node's copy and fallback under <see cref="RedisApiKeyPool"/>). Each provider's keys sit behind one short lock: a pick is a scan
/// of a handful of keys, so N concurrent requests on N keys get N different keys. Nothing here touches
/// the database; <see cref="KeyStateWriter"/> persists counters in batches and state changes promptly.
/// </summary>
public sealed partial class ApiKeyPool(SecretBox secrets, IOptionsMonitor<KeyHealthOptions> options, TimeProvider time, ILogger<ApiKeyPool> log)
    : IApiKeyPool
{
    sealed class ProviderKeys
    {
        public KeyState[] Keys = [];
    }

    sealed class KeyState(long id, int providerId)
    {
        public readonly long Id = id;
        public readonly int ProviderId = providerId;
        public KeyLease? Lease;               // null when the secret cannot be decrypted
        public string Ciphertext = "";
        public bool Active;
        public string? DisabledReason;
        public DateTime? DisabledAt;
        public DateTime? CooldownUntil;
        public bool QuotaCooldown;
        public int CooldownLevel;
        public int ConsecutiveFailures;
        public readonly Queue<DateTime> RecentFailures = new();
        public long UsedOrder;
        public DateTime? LastUsedAt;
        // Pending database writes.
        public long PendingRequests;
        public int PendingFailures;
        public bool CountersDirty;
        public long StateVersion;
        public long WrittenVersion;
        public DateTime StateWrittenAt;
    }

    readonly Lock _mapLock = new();
    volatile Dictionary<int, ProviderKeys> _providers = [];
    volatile Dictionary<long, KeyState> _byId = [];
    long _order = DateTime.UtcNow.Ticks;
    readonly SemaphoreSlim _changed = new(0, 1);

    DateTime Now => time.GetUtcNow().UtcDateTime;

    public void Sync(IReadOnlyList<KeyRow> rows, DateTime rowsReadAt)
    {
        lock (_mapLock)
        {
            var byId = new Dictionary<long, KeyState>(rows.Count);
            var providers = new Dictionary<int, ProviderKeys>();
            foreach (var group in rows.GroupBy(r => r.ProviderId))
            {
                // The provider object (and so its lock) survives reloads; only its key array is replaced.
                var provider = _providers.TryGetValue(group.Key, out var existing) ? existing : new ProviderKeys();
                lock (provider)
                {
                    var keys = new List<KeyState>();
                    foreach (var row in group.OrderBy(r => r.Id))
                    {
                        var isNew = !_byId.TryGetValue(row.Id, out var state) || state.ProviderId != row.ProviderId;
                        if (isNew) state = new KeyState(row.Id, row.ProviderId);
                        Adopt(state!, row, rowsReadAt, isNew);
                        keys.Add(state!);
                        byId[row.Id] = state!;
                    }
                    provider.Keys = keys.ToArray();
                }
                providers[group.Key] = provider;
            }
            foreach (var (id, gone) in _providers)
                if (!providers.ContainsKey(id))
                    lock (gone) gone.Keys = [];
            _byId = byId;
            _providers = providers;
        }
    }

    void Adopt(KeyState state, KeyRow row, DateTime rowsReadAt, bool isNew)
    {
        if (state.Ciphertext != row.EncryptedSecret)
        {
            state.Ciphertext = row.EncryptedSecret;
            state.Lease = Decrypt(row);
        }
        // Rows are the truth (admin edits, restarts) unless this pool changed the key after they were read.
        var localChangeNewer = state.StateVersion != state.WrittenVersion || state.StateWrittenAt >= rowsReadAt;
        if (isNew || !localChangeNewer)
        {
            state.Active = row.Active;
            state.CooldownUntil = row.CooldownUntil;
            state.ConsecutiveFailures = row.ConsecutiveFailures;
            if (row.Active) { state.DisabledReason = null; state.DisabledAt = null; }
            if (row.CooldownUntil is null) { state.QuotaCooldown = false; state.CooldownLevel = 0; }
        }
        if (isNew)
        {
            state.LastUsedAt = row.LastUsedAt;
            state.UsedOrder = row.LastUsedAt?.Ticks ?? 0;
        }
    }

    KeyLease? Decrypt(KeyRow row)
    {
        try
        {
            return new KeyLease(row.Id, row.ProviderId, secrets.Decrypt(row.EncryptedSecret));
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            log.LogWarning("API key {KeyId} of provider {ProviderId} cannot be decrypted with the configured Secrets:Key; it is skipped", row.Id, row.ProviderId);
            return null;
        }
    }

    public KeyLease? TryAcquire(int providerId, IReadOnlyCollection<long>? exclude, out DateTime? retryAt)
    {
        retryAt = null;
        if (!_providers.TryGetValue(providerId, out var provider)) return null;
        var now = Now;
        lock (provider)
        {
            KeyState? best = null;
            foreach (var key in provider.Keys)
            {
                if (!key.Active || key.Lease is null) continue;
                if (key.CooldownUntil is { } until && until > now)
                {
                    if (!key.QuotaCooldown && (retryAt is null || until < retryAt)) retryAt = until;
                    continue;
                }
                if (exclude is not null && exclude.Contains(key.Id)) continue;
                if (best is null || key.UsedOrder < best.UsedOrder) best = key;
            }
            if (best is null) return null;
            best.UsedOrder = Interlocked.Increment(ref _order);
            best.LastUsedAt = now;
            best.PendingRequests++;
            best.CountersDirty = true;
            retryAt = null;
            return best.Lease;
        }
    }

    public ValueTask<KeyPick> AcquireAsync(int providerId, IReadOnlyCollection<long>? exclude, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new KeyPick(TryAcquire(providerId, exclude, out var retryAt), retryAt));

    public ValueTask ReportSuccessAsync(KeyLease lease)
    {
        ReportSuccess(lease);
        return ValueTask.CompletedTask;
    }

    public ValueTask<KeyHealth> ReportFailureAsync(KeyLease lease, KeyFault fault, TimeSpan? retryAfter, string detail) =>
        ValueTask.FromResult(ReportFailure(lease, fault, retryAfter, detail));

    public ValueTask ReportProbeAsync(KeyLease lease, bool healthy)
    {
        ReportProbe(lease, healthy);
        return ValueTask.CompletedTask;
    }

    public void ReportSuccess(KeyLease lease)
    {
        if (!TryGet(lease, out var key, out var provider)) return;
        var cleared = false;
        var now = Now;
        lock (provider)
        {
            if (key.ConsecutiveFailures != 0) { key.ConsecutiveFailures = 0; key.CountersDirty = true; }
            key.CooldownLevel = 0;
            key.RecentFailures.Clear();
            // A cooldown that ran out and was followed by a success: clear it on the keys page too. One still
            // running was set by a later failure than this request's pick (or by another node): it stays.
            if (key.CooldownUntil is { } until && until <= now && !key.QuotaCooldown)
            {
                key.CooldownUntil = null;
                key.StateVersion++;
                cleared = true;
            }
        }
        if (cleared) Signal();
    }

    public KeyHealth ReportFailure(KeyLease lease, KeyFault fault, TimeSpan? retryAfter, string detail)
    {
        if (!TryGet(lease, out var key, out var provider))
            return new KeyHealth(lease.KeyId, lease.ProviderId, false, null, 0, null, "deleted", null);
        var o = options.CurrentValue;
        var now = Now;
        var changed = false;
        lock (provider)
        {
            key.PendingFailures++;
            key.ConsecutiveFailures++;
            key.CountersDirty = true;
            switch (fault)
            {
                case KeyFault.InvalidKey when key.Active:
                    key.Active = false;
                    key.DisabledAt = now;
                    key.DisabledReason = $"{detail} at {now:yyyy-MM-dd HH:mm}Z";
                    changed = true;
                    break;
                case KeyFault.QuotaExhausted:
                    key.CooldownUntil = now + o.QuotaCooldown;
                    key.QuotaCooldown = true;
                    changed = true;
                    break;
                case KeyFault.RateLimited or KeyFault.ServerError or KeyFault.Timeout:
                    key.RecentFailures.Enqueue(now);
                    while (key.RecentFailures.Count > 0 && now - key.RecentFailures.Peek() > o.FailureWindow) key.RecentFailures.Dequeue();
                    TimeSpan? cooldown = null;
                    if (key.RecentFailures.Count >= o.FailuresBeforeCooldown)
                    {
                        key.CooldownLevel++;
                        var grown = o.BaseCooldown * Math.Pow(2, Math.Min(key.CooldownLevel - 1, 20));
                        cooldown = grown > o.MaxCooldown ? o.MaxCooldown : grown;
                        key.RecentFailures.Clear();
                    }
                    // The provider said when to come back: never sooner than that.
                    if (retryAfter is { } ra && (cooldown is null || ra > cooldown)) cooldown = ra;
                    if (cooldown is { } c && (key.CooldownUntil is null || key.CooldownUntil < now + c))
                    {
                        key.CooldownUntil = now + c;
                        key.QuotaCooldown = false;
                        changed = true;
                    }
                    break;
            }
            if (changed) key.StateVersion++;
        }
        if (changed) Signal();
        return Health(key);
    }

    public int CountActive(int providerId)
    {
        if (!_providers.TryGetValue(providerId, out var provider)) return 0;
        var count = 0;
        foreach (var key in provider.Keys)
            if (key.Active && key.Lease is not null) count++;
        return count;
    }

    public KeyHealth? Describe(long keyId) => _byId.TryGetValue(keyId, out var key) ? Health(key) : null;

    public IReadOnlyList<KeyHealth> Describe() => _byId.Values.Select(Health).OrderBy(k => k.KeyId).ToList();

    KeyHealth Health(KeyState k)
    {
        var provider = _providers.GetValueOrDefault(k.ProviderId);
        if (provider is null) return Read(k);
        lock (provider) return Read(k);

        static KeyHealth Read(KeyState k) =>
            new(k.Id, k.ProviderId, k.Active, k.CooldownUntil, k.ConsecutiveFailures, k.LastUsedAt, k.DisabledReason, k.DisabledAt);
    }

    public IReadOnlyList<KeyLease> KeysToProbe()
    {
        var now = Now;
        var result = new List<KeyLease>();
        foreach (var provider in _providers.Values)
            lock (provider)
                foreach (var key in provider.Keys)
                    if (key is { Active: true, QuotaCooldown: false, Lease: not null } && key.CooldownUntil > now)
                        result.Add(key.Lease);
        return result;
    }

    public void ReportProbe(KeyLease lease, bool healthy)
    {
        if (!healthy || !TryGet(lease, out var key, out var provider)) return;
        lock (provider)
        {
            if (key.CooldownUntil is null) return;
            key.CooldownUntil = null;
            key.CooldownLevel = 0;
            key.ConsecutiveFailures = 0;
            key.RecentFailures.Clear();
            key.CountersDirty = true;
            key.StateVersion++;
        }
        Signal();
    }

    bool TryGet(KeyLease lease, out KeyState key, out ProviderKeys provider)
    {
        provider = null!;
        return _byId.TryGetValue(lease.KeyId, out key!) && _providers.TryGetValue(key.ProviderId, out provider!);
    }

    void Signal()
    {
        if (_changed.CurrentCount == 0)
        {
            try { _changed.Release(); } catch (SemaphoreFullException) { }
        }
    }

    public async Task WaitForChangesAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        await _changed.WaitAsync(timeout, cancellationToken);

    public IReadOnlyList<KeyWrite> TakeWrites()
    {
        var writes = new List<KeyWrite>();
        foreach (var provider in _providers.Values)
            lock (provider)
                foreach (var k in provider.Keys)
                {
                    var writesState = k.StateVersion != k.WrittenVersion;
                    if (!k.CountersDirty && !writesState) continue;
                    writes.Add(new KeyWrite(k.Id, k.PendingRequests, k.PendingFailures, k.LastUsedAt, k.ConsecutiveFailures,
                        writesState, k.Active, k.DisabledReason, k.DisabledAt, k.CooldownUntil, k.StateVersion));
                    k.PendingRequests = 0;
                    k.PendingFailures = 0;
                    k.CountersDirty = false;
                }
        return writes;
    }

    public void MarkWritten(IReadOnlyList<KeyWrite> writes, DateTime writtenAt)
    {
        foreach (var w in writes)
        {
            if (!_byId.TryGetValue(w.KeyId, out var key) || !_providers.TryGetValue(key.ProviderId, out var provider)) continue;
            lock (provider)
            {
                if (!w.WritesState) continue;
                if (w.StateVersion > key.WrittenVersion) key.WrittenVersion = w.StateVersion;
                key.StateWrittenAt = writtenAt;
            }
        }
    }

    public void ReturnUnwritten(IReadOnlyList<KeyWrite> writes)
    {
        foreach (var w in writes)
        {
            if (!_byId.TryGetValue(w.KeyId, out var key) || !_providers.TryGetValue(key.ProviderId, out var provider)) continue;
            lock (provider)
            {
                key.PendingRequests += w.RequestDelta;
                key.PendingFailures += w.FailureDelta;
                key.CountersDirty = true;
            }
        }
    }
}
