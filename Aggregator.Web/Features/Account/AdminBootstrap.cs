using Aggregator.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Account;

/// <summary>Decides who is Admin: the account named by <c>Admin:Email</c>, else the first account registered.</summary>
public sealed class AdminBootstrap(
    UserManager<AppUser> users, RoleManager<IdentityRole> roles, IOptions<AdminOptions> options, AppDbContext db)
{
    public async Task EnsureRoleAsync()
    {
        if (!await roles.RoleExistsAsync(AccountExtensions.AdminRole))
        {
            var created = await roles.CreateAsync(new IdentityRole(AccountExtensions.AdminRole));
            if (!created.Succeeded && !await roles.RoleExistsAsync(AccountExtensions.AdminRole))
                throw new InvalidOperationException("Could not create the Admin role: " + string.Join("; ", created.Errors.Select(e => e.Description)));
        }
    }

    /// <summary>
    /// Called right after an account is created. The Admin it makes also gets the highest tier: the
    /// person who runs the server should not be locked out of the models they configure.
    /// </summary>
    public async Task OnRegisteredAsync(AppUser user)
    {
        await EnsureRoleAsync();
        if (!await ShouldBeAdminAsync(user)) return;
        user.Tier = Tier.Max;
        await users.UpdateAsync(user);
        await users.AddToRoleAsync(user, AccountExtensions.AdminRole);
    }

    async Task<bool> ShouldBeAdminAsync(AppUser user)
    {
        var configured = options.Value.Email;
        if (!string.IsNullOrWhiteSpace(configured))
            return string.Equals(configured.Trim(), user.Email, StringComparison.OrdinalIgnoreCase);
        // First account: nobody else registered before this one.
        return !await db.Users.AnyAsync(u => u.Id != user.Id && u.CreatedAt <= user.CreatedAt);
    }

    /// <summary>At start-up: grants Admin to the configured email if that account already exists.</summary>
    public async Task ApplyConfiguredAdminAsync()
    {
        await EnsureRoleAsync();
        var configured = options.Value.Email;
        if (string.IsNullOrWhiteSpace(configured)) return;
        var user = await users.FindByEmailAsync(configured.Trim());
        if (user is not null && !await users.IsInRoleAsync(user, AccountExtensions.AdminRole))
            await users.AddToRoleAsync(user, AccountExtensions.AdminRole);
    }
}
