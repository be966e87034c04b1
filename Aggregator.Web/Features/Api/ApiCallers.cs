using System.Collections.Concurrent;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Api;

/// <summary>Who is calling the API: a valid token and its owner as the database has them (at most a second old).</summary>
public sealed record ApiCaller(long TokenId, string UserId, string UserName, Tier Tier, ModelAllowList Models, int? RequestsPerMinute,
    decimal? MonthlyBudgetUsd = null, long? MonthlyTokenBudget = null);

/// <summary>Why a presented token does not authenticate; shown to the caller.</summary>
public enum TokenRefusal { Unknown, Revoked, Expired, OwnerLocked }

/// <summary>
/// Token validation without a database round trip per request: each token's row and its owner's
/// state are read at most once per <see cref="Freshness"/>, and every committed change to tokens or
/// accounts (revoke, delete, tier change) empties the cache, so it takes effect on the next request.
/// Last-used times are collected here and written in batches by <see cref="TokenUsageWriter"/>.
/// </summary>
public sealed class ApiCallers(IDbContextFactory<AppDbContext> dbs, TimeProvider time) : ICommittedChangesListener
{
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(1);
    const int MaxEntries = 10_000; // guesses are cached too (as misses): bound what they can fill

    sealed record TokenRow(long Id, string UserId, string UserName, Tier Tier, DateTime? RevokedAt, DateTime? ExpiresAt,
        DateTimeOffset? LockoutEnd, ModelAllowList Models, int? RequestsPerMinute, decimal? MonthlyBudgetUsd, long? MonthlyTokenBudget);

    sealed record Entry(TokenRow? Row, long LoadedAt);

    readonly ConcurrentDictionary<string, Entry> _byHash = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<long, DateTime> _lastUsed = new();
    long _generation; // moves on with every clear: a load that raced a revoke is not kept

    /// <summary>Whether the secret's answer is cached and fresh, so authenticating it costs no database read.</summary>
    public bool IsCached(string secret) =>
        TokenSecrets.LooksLikeToken(secret) && _byHash.TryGetValue(TokenSecrets.Hash(secret), out var entry) && time.GetElapsedTime(entry.LoadedAt) <= Freshness;

    /// <summary>The caller a secret stands for, or why it stands for nobody.</summary>
    public async ValueTask<(ApiCaller? Caller, TokenRefusal Refusal)> AuthenticateAsync(string secret, CancellationToken ct)
    {
        if (!TokenSecrets.LooksLikeToken(secret)) return (null, TokenRefusal.Unknown);
        var hash = TokenSecrets.Hash(secret);
        if (!_byHash.TryGetValue(hash, out var entry) || time.GetElapsedTime(entry.LoadedAt) > Freshness)
        {
            var loadedAt = time.GetTimestamp();
            var generation = Interlocked.Read(ref _generation);
            entry = new Entry(await LoadAsync(hash, ct), loadedAt);
            if (_byHash.Count >= MaxEntries) _byHash.Clear();
            _byHash[hash] = entry;
            // A change committed while we read may not be in what we read: do not keep it for the next request.
            if (Interlocked.Read(ref _generation) != generation) _byHash.TryRemove(hash, out _);
        }

        var now = time.GetUtcNow();
        var row = entry.Row;
        if (row is null) return (null, TokenRefusal.Unknown);
        if (row.RevokedAt is not null) return (null, TokenRefusal.Revoked);
        if (row.ExpiresAt is { } expires && expires <= now.UtcDateTime) return (null, TokenRefusal.Expired);
        if (row.LockoutEnd is { } lockout && lockout > now) return (null, TokenRefusal.OwnerLocked);
        _lastUsed[row.Id] = now.UtcDateTime;
        return (new ApiCaller(row.Id, row.UserId, row.UserName, row.Tier, row.Models, row.RequestsPerMinute, row.MonthlyBudgetUsd, row.MonthlyTokenBudget), default);
    }

    async Task<TokenRow?> LoadAsync(string hash, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        // A deleted owner takes the row with them (cascade): no row, unknown token.
        var row = await db.ApiTokens.AsNoTracking().Where(t => t.SecretHash == hash)
            .Select(t => new { t.Id, t.UserId, UserName = t.User!.UserName, t.User.Tier, t.RevokedAt, t.ExpiresAt, t.User.LockoutEnd, t.AllowedModels, t.RequestsPerMinute,
                t.MonthlyBudgetUsd, t.MonthlyTokenBudget })
            .FirstOrDefaultAsync(ct);
        return row is null ? null : new TokenRow(row.Id, row.UserId, row.UserName ?? "", row.Tier, row.RevokedAt, row.ExpiresAt, row.LockoutEnd,
            ModelAllowList.Parse(row.AllowedModels), row.RequestsPerMinute, row.MonthlyBudgetUsd, row.MonthlyTokenBudget);
    }

    ValueTask ICommittedChangesListener.OnCommittedAsync(ChangedData changes, CancellationToken cancellationToken)
    {
        if ((changes & (ChangedData.Tokens | ChangedData.Accounts)) != 0)
        {
            Interlocked.Increment(ref _generation);
            _byHash.Clear();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Last-used times gathered since the previous call.</summary>
    internal List<KeyValuePair<long, DateTime>> TakeLastUsed()
    {
        var taken = new List<KeyValuePair<long, DateTime>>(_lastUsed.Count);
        foreach (var (id, at) in _lastUsed)
            if (_lastUsed.TryRemove(new KeyValuePair<long, DateTime>(id, at))) taken.Add(new(id, at));
        return taken;
    }

    /// <summary>Puts back times a failed write did not store (a newer use wins).</summary>
    internal void ReturnLastUsed(IEnumerable<KeyValuePair<long, DateTime>> unwritten)
    {
        foreach (var (id, at) in unwritten) _lastUsed.AddOrUpdate(id, at, (_, newer) => newer > at ? newer : at);
    }
}
