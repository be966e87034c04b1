using Aggregator.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Account;

/// <summary>
/// Every change Identity saves to an account (tier, role, password, security stamp) passes through
/// <see cref="UpdateUserAsync"/>: the one place that tells <see cref="AccountStates"/> to forget it.
/// </summary>
public sealed class AppUserManager(
    IUserStore<AppUser> store, IOptions<IdentityOptions> options, IPasswordHasher<AppUser> hasher,
    IEnumerable<IUserValidator<AppUser>> userValidators, IEnumerable<IPasswordValidator<AppUser>> passwordValidators,
    ILookupNormalizer normalizer, IdentityErrorDescriber errors, IServiceProvider services,
    ILogger<UserManager<AppUser>> logger, AccountStates accounts)
    : UserManager<AppUser>(store, options, hasher, userValidators, passwordValidators, normalizer, errors, services, logger)
{
    protected override async Task<IdentityResult> UpdateUserAsync(AppUser user)
    {
        try { return await base.UpdateUserAsync(user); }
        finally { accounts.Evict(user.Id); }
    }

    public override async Task<IdentityResult> DeleteAsync(AppUser user)
    {
        try { return await base.DeleteAsync(user); }
        finally { accounts.Evict(user.Id); }
    }
}
