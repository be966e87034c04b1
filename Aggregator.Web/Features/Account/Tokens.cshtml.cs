using System.ComponentModel.DataAnnotations;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Admin;
using Aggregator.Web.Features.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Account;

/// <summary>
/// The user's personal access tokens for the /v1 API: create (the secret is shown once, in the
/// response to the create itself, never stored or put in a cookie), list, revoke. Every query
/// filters on the signed-in user, so another user's token id simply finds nothing.
/// </summary>
public sealed class TokensModel(AppDbContext db, AuditLog audit, ApiCatalog catalog, TimeProvider time) : PageModel
{
    public const int MaxTokensPerUser = 50;

    [BindProperty] public TokenInput Input { get; set; } = new();
    [TempData] public string? Status { get; set; }
    public IReadOnlyList<TokenRow> Rows { get; private set; } = [];
    /// <summary>Set only on the response to a successful create.</summary>
    public string? NewSecret { get; private set; }
    public string BaseUrl => $"{Request.Scheme}://{Request.Host}{Request.PathBase}/v1";
    public string ExampleModel { get; private set; } = "MODEL_ID";

    public sealed class TokenInput
    {
        [Required(ErrorMessage = "Give the token a name, e.g. the tool that will use it."), StringLength(100), Display(Name = "Name")]
        public string Name { get; set; } = "";
        [Range(1, 3650, ErrorMessage = "Expiry is a number of days from 1 to 3650, or empty for never."), Display(Name = "Expires after (days)")]
        public int? ExpiresInDays { get; set; }
        [StringLength(2000), Display(Name = "Allowed models")]
        public string? AllowedModels { get; set; }
        [Range(1, 100_000, ErrorMessage = "Requests per minute is a number from 1 to 100000, or empty for the tier's limit."), Display(Name = "Requests per minute")]
        public int? RequestsPerMinute { get; set; }
        [Range(typeof(decimal), "0.000001", "1000000", ParseLimitsInInvariantCulture = true, ConvertValueInInvariantCulture = true, ErrorMessage = "The monthly budget in USD is an amount from 0.000001 to 1000000, or empty for none."), Display(Name = "Monthly budget (USD)")]
        public decimal? BudgetUsd { get; set; }
        [Range(1L, 1_000_000_000_000L, ErrorMessage = "The monthly token budget is a number from 1 to 1000000000000, or empty for none."), Display(Name = "Monthly budget (tokens)")]
        public long? BudgetTokens { get; set; }
    }

    public sealed record TokenRow(long Id, string Name, string Prefix, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? RevokedAt,
        DateTime? LastUsedAt, string? AllowedModels, int? RequestsPerMinute, decimal? BudgetUsd, long? BudgetTokens)
    {
        public string State(DateTime now) => RevokedAt is not null ? "revoked" : ExpiresAt <= now ? "expired" : "active";
    }

    /// <summary>This month's use per token id (absent: unused this month).</summary>
    public IReadOnlyDictionary<long, TokenMonth> Month { get; private set; } = new Dictionary<long, TokenMonth>();

    string UserId => User.GetUserId()!;
    public DateTime Now => time.GetUtcNow().UtcDateTime;

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken ct)
    {
        if (ModelState.IsValid && await db.ApiTokens.CountAsync(t => t.UserId == UserId && t.RevokedAt == null, ct) >= MaxTokensPerUser)
            ModelState.AddModelError("", $"You have {MaxTokensPerUser} active tokens; revoke one first.");
        if (!ModelState.IsValid)
        {
            await LoadAsync(ct);
            return Page();
        }
        var secret = TokenSecrets.Generate();
        var allowList = ModelAllowList.Parse(Input.AllowedModels);
        var token = new ApiToken
        {
            UserId = UserId,
            Name = Input.Name.Trim(),
            Prefix = TokenSecrets.PrefixOf(secret),
            SecretHash = TokenSecrets.Hash(secret),
            CreatedAt = Now,
            ExpiresAt = Input.ExpiresInDays is { } days ? Now.AddDays(days) : null,
            AllowedModels = allowList.Stored,
            RequestsPerMinute = Input.RequestsPerMinute,
            MonthlyBudgetUsd = Input.BudgetUsd,
            MonthlyTokenBudget = Input.BudgetTokens,
        };
        db.ApiTokens.Add(token);
        audit.Record("token.create", "api-token", token, $"{token.Name} ({token.Prefix}…)");
        await db.SaveChangesAsync(ct); // the row and its audit entry together
        NewSecret = secret;
        var example = (await catalog.ListAsync(new ApiCaller(token.Id, UserId, "", User.GetTier(), allowList, null), ct)).FirstOrDefault();
        if (example is not null) ExampleModel = example.Id;
        ModelState.Clear();
        Input = new TokenInput();
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(long id, CancellationToken ct)
    {
        var token = await db.ApiTokens.FirstOrDefaultAsync(t => t.Id == id && t.UserId == UserId, ct);
        if (token is null) return NotFound();
        if (token.RevokedAt is null)
        {
            token.RevokedAt = Now;
            audit.Record("token.revoke", "api-token", token, $"{token.Name} ({token.Prefix}…)");
            await db.SaveChangesAsync(ct); // committed: the token cache forgets it before the next request
        }
        Status = $"The token \"{token.Name}\" is revoked; requests with it are refused from now on.";
        return RedirectToPage();
    }

    async Task LoadAsync(CancellationToken ct)
    {
        Rows = await db.ApiTokens.AsNoTracking().Where(t => t.UserId == UserId)
            .OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id)
            .Select(t => new TokenRow(t.Id, t.Name, t.Prefix, t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt, t.AllowedModels, t.RequestsPerMinute,
                t.MonthlyBudgetUsd, t.MonthlyTokenBudget))
            .ToListAsync(ct);
        Month = await TokenMonth.ForAsync(db, Rows.Select(r => r.Id).ToList(), Now, ct);
    }
}
