using System.ComponentModel.DataAnnotations;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Admin;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Account;

/// <summary>
/// One of the user's API tokens: this month's use against its budgets, its recent requests, and the
/// budgets themselves (editable). Every query filters on the signed-in user: another user's token id finds nothing.
/// </summary>
public sealed class TokenUsageModel(AppDbContext db, AuditLog audit, TimeProvider time) : PageModel
{
    public const int RecentCount = 50;

    [BindProperty] public BudgetInput Input { get; set; } = new();
    [TempData] public string? Status { get; set; }
    public ApiToken Token { get; private set; } = null!;
    public TokenMonth Month { get; private set; } = TokenMonth.None;
    public IReadOnlyList<RequestRow> Recent { get; private set; } = [];
    public DateTime Now => time.GetUtcNow().UtcDateTime;

    public sealed class BudgetInput
    {
        [Range(typeof(decimal), "0.000001", "1000000", ParseLimitsInInvariantCulture = true, ConvertValueInInvariantCulture = true,
            ErrorMessage = "The monthly budget in USD is an amount from 0.000001 to 1000000, or empty for none."), Display(Name = "Monthly budget (USD)")]
        public decimal? BudgetUsd { get; set; }
        [Range(1L, 1_000_000_000_000L, ErrorMessage = "The monthly token budget is a number from 1 to 1000000000000, or empty for none."), Display(Name = "Monthly budget (tokens)")]
        public long? BudgetTokens { get; set; }
    }

    public sealed record RequestRow(DateTime At, string Model, int PromptTokens, int CompletionTokens, decimal? CostUsd, bool Estimated);

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        if (!await LoadAsync(id, ct)) return NotFound();
        Input = new BudgetInput { BudgetUsd = Token.MonthlyBudgetUsd, BudgetTokens = Token.MonthlyTokenBudget };
        return Page();
    }

    public async Task<IActionResult> OnPostBudgetAsync(long id, CancellationToken ct)
    {
        var token = await db.ApiTokens.FirstOrDefaultAsync(t => t.Id == id && t.UserId == User.GetUserId(), ct);
        if (token is null) return NotFound();
        if (!ModelState.IsValid)
        {
            await LoadAsync(id, ct);
            return Page();
        }
        token.MonthlyBudgetUsd = Input.BudgetUsd;
        token.MonthlyTokenBudget = Input.BudgetTokens;
        audit.Record("token.budget", "api-token", token,
            $"{token.Name} ({token.Prefix}…): {(Input.BudgetUsd is { } usd ? TokenMonth.Usd(usd) : "no USD budget")}, {(Input.BudgetTokens is { } t ? $"{t} tokens" : "no token budget")}");
        await db.SaveChangesAsync(ct); // committed: the token cache reloads it, so the next request sees the new budget
        Status = "Budgets saved; they apply from the next request.";
        return RedirectToPage(new { id });
    }

    async Task<bool> LoadAsync(long id, CancellationToken ct)
    {
        var token = await db.ApiTokens.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id && t.UserId == User.GetUserId(), ct);
        if (token is null) return false;
        Token = token;
        Month = (await TokenMonth.ForAsync(db, [id], Now, ct)).GetValueOrDefault(id) ?? TokenMonth.None;
        Recent = await db.Usage.AsNoTracking()
            .Where(u => u.ApiTokenId == id && u.UserId == token.UserId)
            .OrderByDescending(u => u.CreatedAt).ThenByDescending(u => u.Id)
            .Take(RecentCount)
            .Select(u => new RequestRow(u.CreatedAt,
                db.Models.Where(m => m.Id == u.ModelId).Select(m => m.Provider!.Name + "/" + m.ModelId).FirstOrDefault() ?? "(removed model)",
                u.PromptTokens, u.CompletionTokens, u.CostUsd, u.Estimated))
            .ToListAsync(ct);
        return true;
    }
}
