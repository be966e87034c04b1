namespace Aggregator.Web.Upstream.Keys;

/// <summary>A key's state as decided by some node: what <see cref="RedisApiKeyPool"/> shares and mirrors.</summary>
/// <param name="CooldownLeft">How long the key still cools down (null with <paramref name="Cleared"/>: no cooldown; null without: unchanged).</param>
public sealed record KeyDecision(long KeyId, int ProviderId, TimeSpan? CooldownLeft, bool Quota, bool Cleared, string? DisabledReason);

// What the Redis pool needs from the local one: candidates to pick among, the local side of a pick
// made in Redis, and other nodes' decisions applied to this node's copy (the keys page, and the
// fallback while Redis is down).
public sealed partial class ApiKeyPool
{
    /// <summary>Usable keys of a provider in id order (cooldowns are Redis's to judge), each flagged when excluded.</summary>
    public IReadOnlyList<(long KeyId, bool Excluded)> Candidates(int providerId, IReadOnlyCollection<long>? exclude)
    {
        if (!_providers.TryGetValue(providerId, out var provider)) return [];
        lock (provider)
        {
            var result = new List<(long, bool)>(provider.Keys.Length);
            foreach (var key in provider.Keys)
                if (key.Active && key.Lease is not null) result.Add((key.Id, exclude is not null && exclude.Contains(key.Id)));
            return result;
        }
    }

    /// <summary>Records a pick made elsewhere (in Redis) on this node: counters to write, last used.</summary>
    public KeyLease? MarkPicked(long keyId)
    {
        if (!_byId.TryGetValue(keyId, out var key) || !_providers.TryGetValue(key.ProviderId, out var provider)) return null;
        lock (provider)
        {
            if (!key.Active || key.Lease is null) return null;
            key.UsedOrder = Interlocked.Increment(ref _order);
            key.LastUsedAt = Now;
            key.PendingRequests++;
            key.CountersDirty = true;
            return key.Lease;
        }
    }

    /// <summary>This node's current view of a key, as a decision to share (null when unknown).</summary>
    public KeyDecision? Decision(long keyId)
    {
        if (!_byId.TryGetValue(keyId, out var key) || !_providers.TryGetValue(key.ProviderId, out var provider)) return null;
        var now = Now;
        lock (provider)
        {
            var left = key.CooldownUntil is { } until && until > now ? until - now : (TimeSpan?)null;
            return new KeyDecision(key.Id, key.ProviderId, left, key.QuotaCooldown, left is null, key.Active ? null : key.DisabledReason ?? "disabled");
        }
    }

    /// <summary>Every key this node knows, as decisions (to push to Redis when it returns).</summary>
    public IReadOnlyList<KeyDecision> Decisions() => _byId.Keys.Select(Decision).OfType<KeyDecision>().ToList();

    /// <summary>
    /// Applies a decision another node made (or Redis holds) to this node's copy. Not written to the
    /// database from here: the deciding node writes it.
    /// </summary>
    public void Mirror(KeyDecision decision)
    {
        if (!_byId.TryGetValue(decision.KeyId, out var key) || !_providers.TryGetValue(key.ProviderId, out var provider)) return;
        var now = Now;
        lock (provider)
        {
            if (decision.DisabledReason is { } reason && key.Active)
            {
                key.Active = false;
                key.DisabledReason = reason;
                key.DisabledAt = now;
            }
            if (decision.CooldownLeft is { } left)
            {
                key.CooldownUntil = now + left;
                key.QuotaCooldown = decision.Quota;
            }
            else if (decision.Cleared && key.CooldownUntil is not null)
            {
                key.CooldownUntil = null;
                key.QuotaCooldown = false;
                key.CooldownLevel = 0;
            }
        }
    }
}
