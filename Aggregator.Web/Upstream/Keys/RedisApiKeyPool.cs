using System.Globalization;
using Aggregator.Web.Cluster;
using Aggregator.Web.Upstream.Routing;
using StackExchange.Redis;

namespace Aggregator.Web.Upstream.Keys;

/// <summary>
/// The key pool across nodes. The pick is one Lua script over Redis state per provider: a sorted set of
/// last-use order (scores from one INCR counter), and hashes of cooldown ends (Redis time, ms) and
/// disabled keys. So N concurrent requests on N keys get N different keys whichever nodes they reach,
/// a cooldown or disable is skipped by the next pick anywhere, and node clocks do not matter.
/// Failure counting and the cooldown's length are decided by the local <see cref="ApiKeyPool"/> (this
/// node's copy: candidates, counters for <see cref="KeyStateWriter"/>, the keys page); the decision goes
/// to Redis at once and to other nodes' copies over <see cref="IClusterBus"/>.
/// While Redis is unreachable the local pool picks on its own; when Redis returns, this node's cooldowns
/// and disables are pushed and Redis's are mirrored back.
/// </summary>
public sealed class RedisApiKeyPool : IApiKeyPool
{
    const string Topic = "keys";
    /// <summary>
    /// How long a disable the router wrote survives rows that still say active: the rows may have been read
    /// before the disable reached the database. After that, active rows mean an admin re-enabled the key.
    /// </summary>
    static readonly TimeSpan RouterDisableGrace = TimeSpan.FromSeconds(10);

    // KEYS: used zset, cooldown hash, quota hash, disabled hash, order counter. ARGV: key ids, "-" before an excluded one.
    const string PickScript = SharedCounters.Now + """
        local best, bestScore, retry = nil, nil, nil
        for _, arg in ipairs(ARGV) do
          local excluded = string.sub(arg, 1, 1) == '-'
          local id = excluded and string.sub(arg, 2) or arg
          if redis.call('HEXISTS', KEYS[4], id) == 0 then
            local untilMs = tonumber(redis.call('HGET', KEYS[2], id) or '0')
            if untilMs > now then
              if redis.call('HEXISTS', KEYS[3], id) == 0 and (retry == nil or untilMs < retry) then retry = untilMs end
            elseif not excluded then
              local score = tonumber(redis.call('ZSCORE', KEYS[1], id) or '0')
              if best == nil or score < bestScore then best, bestScore = id, score end
            end
          end
        end
        if best == nil then
          if retry == nil then return {'', -1} end
          return {'', retry - now}
        end
        redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[5]), best)
        return {best, 0}
        """;

    // KEYS: cooldown hash, quota hash. ARGV: id, cooldown ms, quota flag. Keeps the later end; returns ms left.
    const string CoolScript = SharedCounters.Now + """
        local untilMs = now + tonumber(ARGV[2])
        local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
        if untilMs > current then
          redis.call('HSET', KEYS[1], ARGV[1], untilMs)
          if ARGV[3] == '1' then redis.call('HSET', KEYS[2], ARGV[1], '1') else redis.call('HDEL', KEYS[2], ARGV[1]) end
          current = untilMs
        end
        return current - now
        """;

    // KEYS: cooldown hash, quota hash. ARGV: id, "probe" when a probe lifts a running cooldown.
    // A success only clears a cooldown that ran out: one another node set meanwhile stays. Returns ms left
    // (0: none; negative: a quota cooldown, which only running out ends).
    const string ClearScript = SharedCounters.Now + """
        local untilMs = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
        if untilMs == 0 then return 0 end
        if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return -math.max(untilMs - now, 0) end
        if untilMs > now and ARGV[2] ~= 'probe' then return untilMs - now end
        redis.call('HDEL', KEYS[1], ARGV[1])
        return 0
        """;

    // KEYS: disabled hash. ARGV: id. The value records who disabled it and when: r<ms> for the router.
    const string DisableScript = SharedCounters.Now + "redis.call('HSET', KEYS[1], ARGV[1], 'r' .. now)\nreturn 1";

    // KEYS: disabled hash. ARGV: grace ms, then pairs of id and 1/0 (active in the rows or not).
    const string SyncScript = SharedCounters.Now + """
        local grace = tonumber(ARGV[1])
        for i = 2, #ARGV, 2 do
          local id, active = ARGV[i], ARGV[i + 1]
          local held = redis.call('HGET', KEYS[1], id)
          if active == '0' then
            if not held then redis.call('HSET', KEYS[1], id, 'a') end
          elseif held and (held == 'a' or now - tonumber(string.sub(held, 2)) > grace) then
            redis.call('HDEL', KEYS[1], id)
          end
        end
        return 1
        """;

    // KEYS: cooldown hash, quota hash, disabled hash. Returns id, ms left, quota, disabled for every key with state.
    const string ReadScript = SharedCounters.Now + """
        local out = {}
        local cooling = redis.call('HGETALL', KEYS[1])
        for i = 1, #cooling, 2 do
          local left = tonumber(cooling[i + 1]) - now
          if left > 0 then
            table.insert(out, cooling[i]); table.insert(out, left)
            table.insert(out, redis.call('HEXISTS', KEYS[2], cooling[i])); table.insert(out, 0)
          end
        end
        for _, id in ipairs(redis.call('HKEYS', KEYS[3])) do
          table.insert(out, id); table.insert(out, 0); table.insert(out, 0); table.insert(out, 1)
        end
        return out
        """;

    readonly ApiKeyPool _local;
    readonly SharedCounters _redis;
    readonly IClusterBus _bus;
    readonly TimeProvider _time;
    readonly ILogger<RedisApiKeyPool> _log;
    volatile int[] _providerIds = [];

    public RedisApiKeyPool(ApiKeyPool local, SharedCounters redis, IClusterBus bus, TimeProvider time, ILogger<RedisApiKeyPool> log)
    {
        _local = local;
        _redis = redis;
        _bus = bus;
        _time = time;
        _log = log;
        try
        {
            bus.Subscribe(Topic, OnDecisionAsync);
        }
        catch (RedisException ex)
        {
            // Picks still go through Redis when it comes; only other nodes' copies for the keys page lag.
            log.LogWarning(ex, "Could not subscribe to other nodes' key decisions; this node's keys page shows its own");
        }
        redis.Redis.Restored += () => _ = ConvergeAsync();
    }

    RedisKey[] Keys(int providerId) =>
    [
        _redis.Redis.Key($"keys:{providerId}:used"), _redis.Redis.Key($"keys:{providerId}:cooldown"),
        _redis.Redis.Key($"keys:{providerId}:quota"), _redis.Redis.Key($"keys:{providerId}:disabled"), _redis.Redis.Key("keys:order"),
    ];

    static RedisValue Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    public void Sync(IReadOnlyList<KeyRow> rows, DateTime rowsReadAt)
    {
        var before = _local.Decisions().Select(d => (d.KeyId, d.ProviderId)).ToList();
        _local.Sync(rows, rowsReadAt);
        _providerIds = rows.Select(r => r.ProviderId).Distinct().ToArray();
        // Whichever node reads a disable (or a deletion) first writes it to Redis: every node's next pick skips it.
        var rowIds = rows.Select(r => r.Id).ToHashSet();
        var states = rows.Select(r => (r.Id, r.ProviderId, r.Active))
            .Concat(before.Where(k => !rowIds.Contains(k.KeyId)).Select(k => (k.KeyId, k.ProviderId, Active: false)));
        _ = Task.Run(async () =>
        {
            foreach (var provider in states.GroupBy(s => s.ProviderId))
            {
                var args = new List<RedisValue> { (long)RouterDisableGrace.TotalMilliseconds };
                foreach (var (id, _, active) in provider) { args.Add(Id(id)); args.Add(active ? 1 : 0); }
                await _redis.TryRunAsync(SyncScript, [Keys(provider.Key)[3]], [.. args], "key disables");
            }
        });
    }

    public async ValueTask<KeyPick> AcquireAsync(int providerId, IReadOnlyCollection<long>? exclude, CancellationToken cancellationToken)
    {
        var candidates = _local.Candidates(providerId, exclude);
        if (candidates.Count == 0) return default;
        var args = candidates.Select(c => (RedisValue)(c.Excluded ? "-" + c.KeyId.ToString(CultureInfo.InvariantCulture) : c.KeyId.ToString(CultureInfo.InvariantCulture))).ToArray();
        var result = await _redis.TryRunAsync(PickScript, Keys(providerId), args, "key picks");
        if (result is null) return await _local.AcquireAsync(providerId, exclude, cancellationToken);
        var parts = (RedisResult[])result!;
        var picked = (string?)parts[0];
        if (!string.IsNullOrEmpty(picked))
        {
            var lease = _local.MarkPicked(long.Parse(picked, CultureInfo.InvariantCulture));
            // Disabled locally between the candidate list and the pick: take another.
            return lease is not null ? new KeyPick(lease, null) : await _local.AcquireAsync(providerId, exclude, cancellationToken);
        }
        var left = (long)parts[1];
        return new KeyPick(null, left < 0 ? null : Now + TimeSpan.FromMilliseconds(left));
    }

    public async ValueTask ReportSuccessAsync(KeyLease lease)
    {
        var hadCooldown = _local.Describe(lease.KeyId)?.CooldownUntil is not null;
        _local.ReportSuccess(lease);
        // Nothing to clear as far as this node knows; a cooldown it has not heard of yet keeps it from a pick anyway.
        if (!hadCooldown) return;
        var left = await _redis.TryRunAsync(ClearScript, CooldownKeys(lease.ProviderId), [Id(lease.KeyId), "success"], "key cooldowns");
        if (left is not null) await ShareAsync(lease, Math.Abs((long)left), quota: (long)left < 0);
    }

    public async ValueTask<KeyHealth> ReportFailureAsync(KeyLease lease, KeyFault fault, TimeSpan? retryAfter, string detail)
    {
        var before = _local.Decision(lease.KeyId);
        var health = _local.ReportFailure(lease, fault, retryAfter, detail);
        var after = _local.Decision(lease.KeyId);
        if (before is null || after is null) return health;
        if (after.DisabledReason is not null && before.DisabledReason is null)
        {
            await _redis.TryRunAsync(DisableScript, [Keys(lease.ProviderId)[3]], [Id(lease.KeyId)], "key disables");
            await PublishAsync(after);
        }
        else if (after.CooldownLeft is { } cooldown && (before.CooldownLeft is not { } was || cooldown > was))
        {
            var left = await _redis.TryRunAsync(CoolScript, CooldownKeys(lease.ProviderId),
                [Id(lease.KeyId), (long)Math.Ceiling(cooldown.TotalMilliseconds), after.Quota ? 1 : 0], "key cooldowns");
            if (left is not null) await ShareAsync(lease, (long)left, after.Quota);
            else await PublishAsync(after);
        }
        return health;
    }

    public async ValueTask ReportProbeAsync(KeyLease lease, bool healthy)
    {
        _local.ReportProbe(lease, healthy);
        if (!healthy) return;
        var left = await _redis.TryRunAsync(ClearScript, CooldownKeys(lease.ProviderId), [Id(lease.KeyId), "probe"], "key cooldowns");
        if (left is not null) await ShareAsync(lease, Math.Abs((long)left), quota: (long)left < 0);
    }

    RedisKey[] CooldownKeys(int providerId) => Keys(providerId)[1..3];

    /// <summary>Mirrors what Redis now holds for a key here and on every other node.</summary>
    async Task ShareAsync(KeyLease lease, long leftMs, bool quota = false)
    {
        var decision = leftMs > 0
            ? new KeyDecision(lease.KeyId, lease.ProviderId, TimeSpan.FromMilliseconds(leftMs), quota, false, null)
            : new KeyDecision(lease.KeyId, lease.ProviderId, null, false, true, null);
        _local.Mirror(decision);
        await PublishAsync(decision);
    }

    Task PublishAsync(KeyDecision d) => _bus.PublishAsync(Topic, string.Join('|',
        d.KeyId.ToString(CultureInfo.InvariantCulture), d.ProviderId.ToString(CultureInfo.InvariantCulture),
        d.CooldownLeft is { } left ? ((long)left.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) : "",
        d.Quota ? "1" : "0", d.Cleared ? "1" : "0", d.DisabledReason ?? ""));

    Task OnDecisionAsync(ClusterMessage message)
    {
        if (message.FromNode == _bus.Node.Id) return Task.CompletedTask;
        var p = message.Payload.Split('|', 6);
        if (p.Length < 6) return Task.CompletedTask;
        _local.Mirror(new KeyDecision(long.Parse(p[0], CultureInfo.InvariantCulture), int.Parse(p[1], CultureInfo.InvariantCulture),
            p[2].Length > 0 ? TimeSpan.FromMilliseconds(long.Parse(p[2], CultureInfo.InvariantCulture)) : null,
            p[3] == "1", p[4] == "1", p[5].Length > 0 ? p[5] : null));
        return Task.CompletedTask;
    }

    /// <summary>After an outage: what this node decided alone goes to Redis, then Redis's state comes back here.</summary>
    async Task ConvergeAsync()
    {
        try
        {
            foreach (var d in _local.Decisions())
            {
                if (d.DisabledReason is not null)
                    await _redis.TryRunAsync(DisableScript, [Keys(d.ProviderId)[3]], [Id(d.KeyId)], "key disables");
                else if (d.CooldownLeft is { } left)
                    await _redis.TryRunAsync(CoolScript, CooldownKeys(d.ProviderId), [Id(d.KeyId), (long)left.TotalMilliseconds, d.Quota ? 1 : 0], "key cooldowns");
            }
            foreach (var providerId in _providerIds)
            {
                var keys = Keys(providerId);
                if (await _redis.TryRunAsync(ReadScript, [keys[1], keys[2], keys[3]], [], "key state") is not { } result) continue;
                var flat = (RedisResult[])result!;
                for (var i = 0; i + 3 < flat.Length; i += 4)
                {
                    var id = long.Parse((string)flat[i]!, CultureInfo.InvariantCulture);
                    var left = (long)flat[i + 1];
                    _local.Mirror(new KeyDecision(id, providerId, left > 0 ? TimeSpan.FromMilliseconds(left) : null, (long)flat[i + 2] == 1, false,
                        (long)flat[i + 3] == 1 ? "disabled on another node" : null));
                }
            }
        }
        catch (Exception ex)
        {
            _log.LogWarning(ex, "Reconciling key state with Redis after an outage failed; it converges with the next decisions");
        }
    }

    DateTime Now => _time.GetUtcNow().UtcDateTime;

    public int CountActive(int providerId) => _local.CountActive(providerId);
    public KeyHealth? Describe(long keyId) => _local.Describe(keyId);
    public IReadOnlyList<KeyHealth> Describe() => _local.Describe();
    public IReadOnlyList<KeyLease> KeysToProbe() => _local.KeysToProbe();
    public Task WaitForChangesAsync(TimeSpan timeout, CancellationToken cancellationToken) => _local.WaitForChangesAsync(timeout, cancellationToken);
    public IReadOnlyList<KeyWrite> TakeWrites() => _local.TakeWrites();
    public void MarkWritten(IReadOnlyList<KeyWrite> writes, DateTime writtenAt) => _local.MarkWritten(writes, writtenAt);
    public void ReturnUnwritten(IReadOnlyList<KeyWrite> writes) => _local.ReturnUnwritten(writes);
}
