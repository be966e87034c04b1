using System.Security.Claims;
using Aggregator.Web.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Account;

/// <summary>What a session is checked against: the account as the database has it now.</summary>
public sealed record AccountState(string? SecurityStamp, Tier Tier, bool IsAdmin);

/// <summary>
/// Every request and every hub call checks its session against the account's current security stamp,
/// tier and role. Read from the database at most every few seconds per user, and evicted on every node
/// the moment a change to the account commits (a committed change, heard through the cluster bus on the
/// other nodes), so a logout, a password change, a tier downgrade or a role removal applies to the
/// session's next request or hub call wherever it lands. <see cref="Freshness"/> bounds a missed message.
/// </summary>
public sealed class AccountStates(IDbContextFactory<AppDbContext> dbs, IMemoryCache cache, IOptions<IdentityOptions> identity)
    : ICommittedChangesListener
{
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(5);
    long _generation; // moves on with "forget everyone"; part of every key
    long _evictions;  // moves on with every eviction: a read that raced one is not kept

    /// <summary>The account's state if <paramref name="principal"/>'s session still holds (user exists, same stamp); otherwise null.</summary>
    public async Task<AccountState?> CheckAsync(ClaimsPrincipal? principal, CancellationToken ct)
    {
        if (principal?.GetUserId() is not { } userId) return null;
        var state = await GetAsync(userId, ct);
        var stamp = principal.FindFirstValue(identity.Value.ClaimsIdentity.SecurityStampClaimType);
        return state is not null && string.Equals(state.SecurityStamp, stamp, StringComparison.Ordinal) ? state : null; // null = null, as Identity's own validator
    }

    public void Evict(string userId)
    {
        Interlocked.Increment(ref _evictions);
        cache.Remove(Key(userId));
    }

    /// <summary>Forgets every account (entries of the old generation are never read again and expire on their own).</summary>
    public void EvictAll()
    {
        Interlocked.Increment(ref _evictions);
        Interlocked.Increment(ref _generation);
    }

    ValueTask ICommittedChangesListener.OnCommittedAsync(ChangedData changes, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    ValueTask ICommittedChangesListener.OnCommittedAsync(CommittedChange change, CancellationToken cancellationToken)
    {
        if (!change.Data.HasFlag(ChangedData.Accounts)) return ValueTask.CompletedTask;
        if (change.UserIds is null) EvictAll();
        else foreach (var userId in change.UserIds) Evict(userId);
        return ValueTask.CompletedTask;
    }

    /// <summary>The account as the database has it (at most <see cref="Freshness"/> old); null when it does not exist.</summary>
    public async Task<AccountState?> GetAsync(string userId, CancellationToken ct)
    {
        var key = Key(userId);
        if (cache.TryGetValue(key, out AccountState? cached)) return cached;
        var evictions = Interlocked.Read(ref _evictions);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var state = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new AccountState(u.SecurityStamp, u.Tier,
                db.UserRoles.Any(ur => ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId && r.Name == AccountExtensions.AdminRole))))
            .FirstOrDefaultAsync(ct);
        // A change committed while we read may not be in what we read: use it for this call only.
        if (Interlocked.Read(ref _evictions) == evictions) cache.Set(key, state, Freshness);
        return state;
    }

    string Key(string userId) => $"account-state:{Interlocked.Read(ref _generation)}:{userId}";

    /// <summary>
    /// The auth cookie's check, on every request: a stale stamp (logout, password change) signs the
    /// request out; a changed tier or role is put into the session at once, without signing out.
    /// </summary>
    public static async Task ValidateCookieAsync(CookieValidatePrincipalContext context)
    {
        var services = context.HttpContext.RequestServices;
        var principal = context.Principal;
        var state = await services.GetRequiredService<AccountStates>().CheckAsync(principal, context.HttpContext.RequestAborted);
        if (state is null || principal is null)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(context.Scheme.Name);
            return;
        }
        if (state.Tier == principal.GetTier() && state.IsAdmin == principal.IsInRole(AccountExtensions.AdminRole)) return;

        var signIn = services.GetRequiredService<SignInManager<AppUser>>();
        if (await signIn.UserManager.FindByIdAsync(principal.GetUserId()!) is not { } user)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(context.Scheme.Name);
            return;
        }
        context.ReplacePrincipal(await signIn.CreateUserPrincipalAsync(user));
        context.ShouldRenew = true;
    }
}
