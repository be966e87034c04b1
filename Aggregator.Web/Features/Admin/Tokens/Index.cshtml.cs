using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Admin.Tokens;

/// <summary>Every user's API tokens (name, prefix, dates: never the secret, never its hash), and revoke.</summary>
public sealed class IndexModel(AppDbContext db, AuditLog audit, TimeProvider time) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    [BindProperty(SupportsGet = true, Name = "p")] public int PageNumber { get; set; } = 1;
    [TempData] public string? Status { get; set; }
    public IReadOnlyList<TokenRow> Rows { get; private set; } = [];
    public int Total { get; private set; }
    public int PageCount => Math.Max(1, (Total + PageSize - 1) / PageSize);
    public DateTime Now => time.GetUtcNow().UtcDateTime;

    public sealed record TokenRow(long Id, string Owner, string Name, string Prefix, DateTime CreatedAt, DateTime? ExpiresAt,
        DateTime? RevokedAt, DateTime? LastUsedAt, string? AllowedModels, int? RequestsPerMinute, decimal? BudgetUsd, long? BudgetTokens);

    /// <summary>This month's use per token on this page (absent: unused this month).</summary>
    public IReadOnlyDictionary<long, TokenMonth> Month { get; private set; } = new Dictionary<long, TokenMonth>();

    public async Task OnGetAsync(CancellationToken ct)
    {
        var query = db.ApiTokens.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(Q))
        {
            var q = Q.Trim();
            var upper = q.ToUpperInvariant();
            query = query.Where(t => t.User!.NormalizedEmail!.Contains(upper) || t.Name.Contains(q) || t.Prefix.StartsWith(q));
        }
        Total = await query.CountAsync(ct);
        PageNumber = Math.Clamp(PageNumber, 1, PageCount);
        Rows = await query.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id)
            .Skip((PageNumber - 1) * PageSize).Take(PageSize)
            .Select(t => new TokenRow(t.Id, t.User!.Email ?? t.UserId, t.Name, t.Prefix, t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt,
                t.AllowedModels, t.RequestsPerMinute, t.MonthlyBudgetUsd, t.MonthlyTokenBudget))
            .ToListAsync(ct);
        Month = await TokenMonth.ForAsync(db, Rows.Select(r => r.Id).ToList(), Now, ct);
    }

    public async Task<IActionResult> OnPostRevokeAsync(long id, CancellationToken ct)
    {
        var token = await db.ApiTokens.Include(t => t.User).FirstOrDefaultAsync(t => t.Id == id, ct);
        if (token is null) return NotFound();
        if (token.RevokedAt is null)
        {
            token.RevokedAt = Now;
            audit.Record("token.revoke", "api-token", token, $"{token.User?.Email}: {token.Name} ({token.Prefix}…)");
            await db.SaveChangesAsync(ct);
        }
        Status = $"The token \"{token.Name}\" of {token.User?.Email} is revoked.";
        return RedirectToPage(new { Q, p = PageNumber });
    }
}
