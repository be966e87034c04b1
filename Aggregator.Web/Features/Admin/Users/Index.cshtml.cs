using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Admin.Users;

public sealed class IndexModel(AppDbContext db, UserManager<AppUser> users, AuditLog audit) : PageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    [BindProperty(SupportsGet = true, Name = "p")] public int PageNumber { get; set; } = 1;

    public IReadOnlyList<UserRow> Rows { get; private set; } = [];
    public int Total { get; private set; }
    public int PageCount => Math.Max(1, (Total + PageSize - 1) / PageSize);
    [TempData] public string? Status { get; set; }

    public sealed record UserRow(string Id, string Email, Tier Tier, bool IsAdmin, DateTime CreatedAt);

    public async Task OnGetAsync(CancellationToken ct)
    {
        var adminRoleId = await db.Roles.Where(r => r.Name == AccountExtensions.AdminRole).Select(r => r.Id).FirstOrDefaultAsync(ct);
        var query = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(Q))
        {
            var q = Q.Trim().ToUpperInvariant();
            query = query.Where(u => u.NormalizedEmail!.Contains(q));
        }
        Total = await query.CountAsync(ct);
        PageNumber = Math.Clamp(PageNumber, 1, PageCount);
        Rows = await query.OrderBy(u => u.CreatedAt).ThenBy(u => u.Id)
            .Skip((PageNumber - 1) * PageSize).Take(PageSize)
            .Select(u => new UserRow(u.Id, u.Email!, u.Tier,
                db.UserRoles.Any(r => r.UserId == u.Id && r.RoleId == adminRoleId), u.CreatedAt))
            .ToListAsync(ct);
    }

    public async Task<IActionResult> OnPostTierAsync(string id, Tier tier)
    {
        // An unknown tier fails binding and would arrive as the default (Free): refuse it, never downgrade.
        if (!ModelState.IsValid || !Enum.IsDefined(tier)) return BadRequest();
        var user = await users.FindByIdAsync(id);
        if (user is null) return NotFound();
        var old = user.Tier;
        user.Tier = tier;
        audit.Record("user.tier", "user", user.Id, $"{user.Email}: {old} → {tier}");
        // No security-stamp change: that would sign the user out. Their next request or hub call meets
        // the new tier (AccountStates, evicted on every node when this save commits).
        await users.UpdateAsync(user);
        Status = $"{user.Email} is now on the {tier.ToString().ToLowerInvariant()} tier.";
        return RedirectToPage(new { Q, p = PageNumber });
    }

    public Task<IActionResult> OnPostGrantAdminAsync(string id) => SetAdminAsync(id, admin: true);

    public Task<IActionResult> OnPostRevokeAdminAsync(string id) => SetAdminAsync(id, admin: false);

    async Task<IActionResult> SetAdminAsync(string id, bool admin)
    {
        var user = await users.FindByIdAsync(id);
        if (user is null) return NotFound();
        if (!admin && user.Id == users.GetUserId(User))
        {
            Status = "You cannot remove your own Admin role.";
            return RedirectToPage(new { Q, p = PageNumber });
        }
        // Recorded first: UserManager saves the role change and the entry in one SaveChanges.
        var entry = audit.Record(admin ? "user.role.grant" : "user.role.revoke", "user", user.Id, $"{user.Email}: Admin");
        var result = admin
            ? await users.AddToRoleAsync(user, AccountExtensions.AdminRole)
            : await users.RemoveFromRoleAsync(user, AccountExtensions.AdminRole);
        if (!result.Succeeded) audit.Discard(entry);
        Status = result.Succeeded
            ? $"{user.Email} {(admin ? "is now" : "is no longer")} an Admin."
            : string.Join(" ", result.Errors.Select(e => e.Description));
        return RedirectToPage(new { Q, p = PageNumber });
    }
}
