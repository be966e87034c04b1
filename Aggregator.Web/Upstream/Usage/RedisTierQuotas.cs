using System.Collections.Concurrent;
using System.Globalization;
using Aggregator.Web.Cluster;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>
/// Tier quotas across nodes, one Lua script per message so two nodes never let more through than the limit:
/// requests per minute as a sliding log (a sorted set of Redis-time stamps), and per UTC day a hash
/// <c>quota:day:{user}:{day}</c> of messages and tokens, the day decided by Redis's clock. A day's hash is
/// seeded from the usage rows exactly once (a <c>seeded</c> field set with HSETNX), so restarting every
/// node loses nothing, and it expires two days later. While Redis is unreachable <see cref="TierQuotas"/>
/// counts on this node; the days it counted are re-seeded from the usage rows when Redis returns.
/// </summary>
public sealed class RedisTierQuotas : ITierQuotas
{
    const long DayMs = 86_400_000;

    // KEYS: the user's per-minute log. ARGV: day-hash prefix, rpm, messages, tokens (0: unlimited), log member.
    // Returns {verdict, day number, ms to wait}; verdict "seed" asks for the day's usage rows first.
    // The day hash's name is made here because the day is Redis's to decide: fine on one Redis server
    // (what the app uses), not on a Redis Cluster, where every key must be passed in KEYS.
    const string AcquireScript = SharedCounters.Now + """
        local day = math.floor(now / 86400000)
        local dayKey = ARGV[1] .. day
        local untilMidnight = (day + 1) * 86400000 - now
        local rpm, messages, tokens = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        local daily = messages > 0 or tokens > 0
        if daily and redis.call('HEXISTS', dayKey, 'seeded') == 0 then return {'seed', day, 0} end
        if rpm > 0 then
          redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
          if redis.call('ZCARD', KEYS[1]) >= rpm then
            local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
            return {'rpm', day, tonumber(oldest[2]) + 60000 - now}
          end
        end
        if daily then
          local used = redis.call('HMGET', dayKey, 'messages', 'tokens')
          if messages > 0 and tonumber(used[1] or '0') >= messages then return {'messages', day, untilMidnight} end
          if tokens > 0 and tonumber(used[2] or '0') >= tokens then return {'tokens', day, untilMidnight} end
          redis.call('HINCRBY', dayKey, 'messages', 1)
        end
        if rpm > 0 then
          redis.call('ZADD', KEYS[1], now, ARGV[5])
          redis.call('PEXPIRE', KEYS[1], 60000)
        end
        return {'ok', day, untilMidnight}
        """;

    // KEYS: day hash. ARGV: messages, tokens from the usage rows. Only the first seed of a day counts.
    const string SeedScript = """
        if redis.call('HSETNX', KEYS[1], 'seeded', 1) == 1 then
          redis.call('HINCRBY', KEYS[1], 'messages', ARGV[1])
          redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[2])
          redis.call('EXPIRE', KEYS[1], 172800)
        end
        return 1
        """;

    // KEYS: day hash. ARGV: 1 to give the message back, tokens used. A day not seeded yet reads its rows later.
    const string SettleScript = """
        if redis.call('HEXISTS', KEYS[1], 'seeded') == 0 then return 0 end
        if ARGV[1] == '1' and tonumber(redis.call('HGET', KEYS[1], 'messages') or '0') > 0 then redis.call('HINCRBY', KEYS[1], 'messages', -1) end
        if tonumber(ARGV[2]) > 0 then redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[2]) end
        return 1
        """;

    // KEYS: the user's per-minute log. ARGV: day-hash prefix. Reads only (what AcquireScript would find), by Redis's clock:
    // {now ms (unused here), day number, requests in the last minute, ms stamp of the oldest of them (-1: none), seeded, messages, tokens}.
    const string StatusScript = SharedCounters.Now + """
        local day = math.floor(now / 86400000)
        local window = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - 60000), '+inf', 'WITHSCORES')
        local oldest = -1
        if #window > 0 then oldest = tonumber(window[2]) end
        local used = redis.call('HMGET', ARGV[1] .. day, 'seeded', 'messages', 'tokens')
        return {now, day, #window / 2, oldest, used[1] and 1 or 0, tonumber(used[2] or '0'), tonumber(used[3] or '0')}
        """;

    static readonly int UnixEpochDay = new DateOnly(1970, 1, 1).DayNumber;

    readonly TierQuotas _local;
    readonly SharedCounters _redis;
    readonly IOptionsMonitor<QuotaOptions> _options;
    readonly IDbContextFactory<AppDbContext> _dbFactory;
    readonly TimeProvider _time;
    readonly string _node;
    long _sequence;
    // Days counted on this node while Redis was away: their Redis counts are stale, so they are re-seeded.
    readonly ConcurrentDictionary<RedisKey, bool> _countedAlone = new();

    public RedisTierQuotas(TierQuotas local, SharedCounters redis, IOptionsMonitor<QuotaOptions> options,
        IDbContextFactory<AppDbContext> dbFactory, TimeProvider time, NodeIdentity node)
    {
        _local = local;
        _redis = redis;
        _options = options;
        _dbFactory = dbFactory;
        _time = time;
        _node = node.Id;
        redis.Redis.Restored += () => _ = ReseedAsync();
    }

    string DayPrefix(string userId) => _redis.Redis.Prefix + "quota:day:" + userId + ":";
    RedisKey DayKey(string userId, DateOnly day) => DayPrefix(userId) + (day.DayNumber - UnixEpochDay).ToString(CultureInfo.InvariantCulture);

    public async ValueTask<QuotaTicket> AcquireAsync(string userId, Tier tier, CancellationToken cancellationToken)
    {
        var limits = _options.CurrentValue.For(tier);
        if (limits.RequestsPerMinute is null && limits.MessagesPerDay is null && limits.TokensPerDay is null)
            return new QuotaTicket(this, userId, Counted: false);
        var member = _node + ":" + Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture);
        RedisValue[] args = [DayPrefix(userId), limits.RequestsPerMinute ?? 0, limits.MessagesPerDay ?? 0, limits.TokensPerDay ?? 0, member];
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var result = await _redis.TryRunAsync(AcquireScript, [_redis.Redis.Key("quota:rpm:" + userId)], args, "tier quotas");
            if (result is null) return await AcquireLocallyAsync(userId, tier, cancellationToken);
            var parts = (RedisResult[])result!;
            var day = DateOnly.FromDayNumber(UnixEpochDay + (int)(long)parts[1]);
            var wait = TimeSpan.FromMilliseconds((long)parts[2]);
            switch ((string?)parts[0])
            {
                case "ok":
                    return new QuotaTicket(this, userId, Counted: limits.MessagesPerDay is not null || limits.TokensPerDay is not null, day);
                case "seed":
                    var used = await TierQuotas.UsedAsync(_dbFactory, userId, day, cancellationToken);
                    await _redis.TryRunAsync(SeedScript, [DayKey(userId, day)], [used.Messages, used.Tokens], "tier quotas");
                    continue;
                case "rpm":
                    throw TierQuotas.PerMinuteExceeded(limits.RequestsPerMinute!.Value, tier, wait);
                case "messages":
                    throw TierQuotas.DailyExceeded($"{limits.MessagesPerDay} messages", tier, wait);
                default:
                    throw TierQuotas.DailyExceeded($"{limits.TokensPerDay} tokens", tier, wait);
            }
        }
        return await AcquireLocallyAsync(userId, tier, cancellationToken);
    }

    public async ValueTask<QuotaStatus> StatusAsync(string userId, Tier tier, CancellationToken cancellationToken)
    {
        var limits = _options.CurrentValue.For(tier);
        if (limits.RequestsPerMinute is null && limits.MessagesPerDay is null && limits.TokensPerDay is null)
            return await _local.StatusAsync(userId, tier, cancellationToken); // nothing counted in Redis: the usage rows say it all
        var result = await _redis.TryRunAsync(StatusScript, [_redis.Redis.Key("quota:rpm:" + userId)], [DayPrefix(userId)], "tier quotas");
        if (result is null) return await _local.StatusAsync(userId, tier, cancellationToken);
        var parts = (long[])result!;
        var day = DateOnly.FromDayNumber(UnixEpochDay + (int)parts[1]);
        var perMinute = limits.RequestsPerMinute is { } rpm
            ? new QuotaMeter(parts[2], rpm, parts[3] >= 0 ? DateTime.UnixEpoch.AddMilliseconds(parts[3] + 60_000) : null)
            : new QuotaMeter(0, null, null);
        // Not seeded yet (no message today on any node): the rows are what the first message will seed the day with.
        var (messages, tokens) = parts[4] == 1 ? ((int)parts[5], parts[6]) : await TierQuotas.UsedAsync(_dbFactory, userId, day, cancellationToken);
        return QuotaStatus.Of(tier, limits, perMinute, messages, tokens, day);
    }

    async ValueTask<QuotaTicket> AcquireLocallyAsync(string userId, Tier tier, CancellationToken cancellationToken)
    {
        _countedAlone[DayKey(userId, DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime))] = true;
        return await _local.AcquireAsync(userId, tier, cancellationToken);
    }

    public void Settle(QuotaTicket ticket, long tokens, bool refund)
    {
        if (!ticket.Counted || (!refund && tokens <= 0)) return;
        _ = SettleAsync(ticket, tokens, refund);
    }

    async Task SettleAsync(QuotaTicket ticket, long tokens, bool refund)
    {
        var key = DayKey(ticket.UserId, ticket.Day);
        if (await _redis.TryRunAsync(SettleScript, [key], [refund ? 1 : 0, tokens], "tier quotas") is null)
            _countedAlone[key] = true; // the usage row carries the tokens; re-seeding picks them up
    }

    /// <summary>Redis is back: the days counted here meanwhile are read again from the usage rows.</summary>
    async Task ReseedAsync()
    {
        foreach (var key in _countedAlone.Keys)
        {
            try
            {
                await _redis.Redis.Database.KeyDeleteAsync(key);
                _countedAlone.TryRemove(key, out _);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException) { return; }
        }
    }
}
