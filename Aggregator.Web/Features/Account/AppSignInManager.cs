using Aggregator.Web.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Account;

/// <summary>Identity's sign-in, closed against two leaks: login timing and a copied cookie after logout.</summary>
public sealed class AppSignInManager(
    UserManager<AppUser> users, IHttpContextAccessor http, IUserClaimsPrincipalFactory<AppUser> claims,
    IOptions<IdentityOptions> options, ILogger<SignInManager<AppUser>> logger, IAuthenticationSchemeProvider schemes,
    IUserConfirmation<AppUser> confirmation)
    : SignInManager<AppUser>(users, http, claims, options, logger, schemes, confirmation)
{
    static readonly AppUser Nobody = new() { Id = "nobody", UserName = "nobody" };
    static string? _dummyHash;

    /// <summary>
    /// An unknown email costs one password-hash verification, like a wrong password for a real account,
    /// so response time does not tell which emails have accounts.
    /// </summary>
    public override async Task<SignInResult> PasswordSignInAsync(string userName, string password, bool isPersistent, bool lockoutOnFailure)
    {
        if (await UserManager.FindByNameAsync(userName) is { } user)
            return await PasswordSignInAsync(user, password, isPersistent, lockoutOnFailure);
        var hasher = UserManager.PasswordHasher;
        _dummyHash ??= hasher.HashPassword(Nobody, Guid.NewGuid().ToString());
        hasher.VerifyHashedPassword(Nobody, _dummyHash, password);
        return SignInResult.Failed;
    }

    /// <summary>Logging out ends the session everywhere: a new security stamp refuses every copy of the cookie.</summary>
    public override async Task SignOutAsync()
    {
        if (await UserManager.GetUserAsync(Context.User) is { } user)
            await UserManager.UpdateSecurityStampAsync(user);
        await base.SignOutAsync();
    }
}
