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
/// tier and role. Read from the database at most every few seconds per user, and evicted the moment
/// <see cref="AppUserManager"/> saves a change, so a logout or password change ends copies of the
/// session on the next request (on other nodes within <see cref="Freshness"/>).
/// </summary>
public sealed class AccountStates(IDbContextFactory<AppDbContext> dbs, IMemoryCache cache, IOptions<IdentityOptions> identity)
{
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(5);

    /// <summary>The account's state if <paramref name="principal"/>'s session still holds (user exists, same stamp); otherwise null.</summary>
    public async Task<AccountState?> CheckAsync(ClaimsPrincipal? principal, CancellationToken ct)
    {
        if (principal?.GetUserId() is not { } userId) return null;
        var state = await GetAsync(userId, ct);
        var stamp = principal.FindFirstValue(identity.Value.ClaimsIdentity.SecurityStampClaimType);
        return state is not null && string.Equals(state.SecurityStamp, stamp, StringComparison.Ordinal) ? state : null; // null = null, as Identity's own validator
    }

    public void Evict(string userId) => cache.Remove(Key(userId));

    Task<AccountState?> GetAsync(string userId, CancellationToken ct) =>
        cache.GetOrCreateAsync(Key(userId), async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = Freshness;
            await using var db = await dbs.CreateDbContextAsync(ct);
            return await db.Users.AsNoTracking().Where(u => u.Id == userId)
                .Select(u => new AccountState(u.SecurityStamp, u.Tier,
                    db.UserRoles.Any(ur => ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId && r.Name == AccountExtensions.AdminRole))))
                .FirstOrDefaultAsync(ct);
        });

    static string Key(string userId) => "account-state:" + userId;

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
