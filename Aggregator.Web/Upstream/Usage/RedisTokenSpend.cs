using System.Collections.Concurrent;
using System.Globalization;
using Aggregator.Web.Cluster;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>
/// Month-to-date spend per API token across nodes: a hash <c>spend:{token}:{yyyy-MM}</c> of nano-USD and
/// tokens that every node's <see cref="Count"/> adds to, seeded once per token-month from the usage rows
/// (HSETNX of a <c>seeded</c> field). A row is counted only once the month is seeded; it is queued (and
/// counted) before it is written, so a row counted after the seed was not in the seed's read, and none is
/// counted twice, whatever the nodes' clocks say. The month is the rows' own (their CreatedAt), as in the
/// database. While Redis is unreachable <see cref="TokenSpend"/> answers for this node, and the months it
/// counted alone are read again from the rows when Redis returns.
/// </summary>
public sealed class RedisTokenSpend : ITokenSpend
{
    const decimal NanosPerUsd = 1_000_000_000m;

    const string ReadScript = "return redis.call('HMGET', KEYS[1], 'seeded', 'nusd', 'tokens')";

    // KEYS: month hash. ARGV: nano-USD and tokens of the month's rows read just before.
    const string SeedScript = """
        if redis.call('HSETNX', KEYS[1], 'seeded', 1) == 1 then
          redis.call('HINCRBY', KEYS[1], 'nusd', ARGV[1])
          redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[2])
          redis.call('EXPIRE', KEYS[1], 3456000)
        end
        return redis.call('HMGET', KEYS[1], 'seeded', 'nusd', 'tokens')
        """;

    // KEYS: month hash. ARGV: nano-USD, tokens. A month not seeded yet reads the row from the database.
    const string CountScript = """
        if redis.call('HEXISTS', KEYS[1], 'seeded') == 0 then return 0 end
        redis.call('HINCRBY', KEYS[1], 'nusd', ARGV[1])
        redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[2])
        return 1
        """;

    readonly TokenSpend _local;
    readonly SharedCounters _redis;
    readonly IDbContextFactory<AppDbContext> _dbs;
    readonly TimeProvider _time;
    readonly ConcurrentDictionary<RedisKey, bool> _countedAlone = new();

    public RedisTokenSpend(TokenSpend local, SharedCounters redis, IDbContextFactory<AppDbContext> dbs, TimeProvider time)
    {
        _local = local;
        _redis = redis;
        _dbs = dbs;
        _time = time;
        redis.Redis.Restored += () => _ = ReseedAsync();
    }

    RedisKey Key(long tokenId, DateTime monthStart) =>
        _redis.Redis.Key(string.Create(CultureInfo.InvariantCulture, $"spend:{tokenId}:{monthStart:yyyy-MM}"));

    public async ValueTask<MonthSpend> MonthToDateAsync(long tokenId, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var start = TokenSpend.MonthStart(now);
        var key = Key(tokenId, start);
        var read = await _redis.TryRunAsync(ReadScript, [key], [], "token budgets");
        if (read is not null && !((RedisResult[])read!)[0].IsNull) return Spend(read);
        if (read is not null)
        {
            var used = await TokenSpend.UsedAsync(_dbs, tokenId, start, TokenSpend.NextMonth(now), cancellationToken);
            var seeded = await _redis.TryRunAsync(SeedScript, [key], [(long)(used.Usd * NanosPerUsd), used.Tokens], "token budgets");
            if (seeded is not null) return Spend(seeded);
        }
        _countedAlone[key] = true;
        return await _local.MonthToDateAsync(tokenId, cancellationToken);
    }

    static MonthSpend Spend(RedisResult result)
    {
        var values = (RedisResult[])result!;
        return new MonthSpend((values[1].IsNull ? 0 : (long)values[1]) / NanosPerUsd, values[2].IsNull ? 0 : (long)values[2]);
    }

    public void Count(UsageRecord record)
    {
        if (record.ApiTokenId is not { } tokenId) return;
        _local.Count(record); // this node's fallback total stays current
        _ = CountAsync(Key(tokenId, TokenSpend.MonthStart(record.CreatedAt)), record);
    }

    async Task CountAsync(RedisKey key, UsageRecord record)
    {
        RedisValue[] args = [(long)((record.CostUsd ?? 0m) * NanosPerUsd), (long)record.PromptTokens + record.CompletionTokens];
        if (await _redis.TryRunAsync(CountScript, [key], args, "token budgets") is null) _countedAlone[key] = true;
    }

    /// <summary>Redis is back: months counted here meanwhile are seeded again from the usage rows.</summary>
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
