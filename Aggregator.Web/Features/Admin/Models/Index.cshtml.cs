using Aggregator.Web.Data;
using Aggregator.Web.Features.Health;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Admin.Models;

public sealed class IndexModel(AppDbContext db, AuditLog audit, ModelHealthBoard health) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public int? Provider { get; set; }
    /// <summary>Substring of id or name; with <c>*</c> a wildcard pattern on the id (e.g. <c>claude-*</c>).</summary>
    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    [BindProperty(SupportsGet = true)] public ModelType? Type { get; set; }
    [BindProperty(SupportsGet = true)] public ModelCapabilities? Cap { get; set; }
    [BindProperty(SupportsGet = true)] public string? Show { get; set; }
    [BindProperty(SupportsGet = true)] public Tier? Tier { get; set; }
    [BindProperty(SupportsGet = true, Name = "p")] public int PageNumber { get; set; } = 1;

    public IReadOnlyList<ModelRow> Rows { get; private set; } = [];
    public IReadOnlyList<(int Id, string Name)> Providers { get; private set; } = [];
    public int Total { get; private set; }
    /// <summary>Live health (Features/Health) for the Health column.</summary>
    public HealthBoard Health { get; private set; } = HealthBoard.Empty;
    public int PageCount => Math.Max(1, (Total + PageSize - 1) / PageSize);
    [TempData] public string? Status { get; set; }

    public sealed record ModelRow(long Id, string ProviderName, string ModelId, string DisplayName, string? Override, ModelType Type, bool TypeInferred,
        ModelCapabilities Caps, ModelCapabilities Inferred, int? Context, int? MaxOutput, decimal? In, decimal? Out, Tier Tier, bool Available, bool Hidden,
        DateTime? HealthHiddenAt = null);

    public async Task OnGetAsync(CancellationToken ct)
    {
        Providers = (await db.Providers.AsNoTracking().OrderBy(p => p.DisplayName).Select(p => new { p.Id, p.DisplayName }).ToListAsync(ct))
            .Select(p => (p.Id, p.DisplayName)).ToList();
        var query = Filtered();
        Total = await query.CountAsync(ct);
        PageNumber = Math.Clamp(PageNumber, 1, PageCount);
        Rows = await query.OrderBy(m => m.ModelId).ThenBy(m => m.Id)
            .Skip((PageNumber - 1) * PageSize).Take(PageSize)
            .Select(m => new ModelRow(m.Id, m.Provider!.DisplayName, m.ModelId, m.DisplayName, m.DisplayNameOverride, m.Type, m.TypeInferred,
                m.Capabilities, m.InferredCapabilities, m.ContextWindow, m.MaxOutputTokens, m.InputPricePerMTok, m.OutputPricePerMTok,
                m.TierRequired, m.Available, m.Hidden, m.HealthHiddenAt))
            .ToListAsync(ct);
        Health = await health.GetAsync(ct);
    }

    public async Task<IActionResult> OnPostEditAsync(long id, string? displayName, Tier tier, bool hidden, CancellationToken ct)
    {
        var model = await db.Models.FindAsync([id], ct);
        if (model is null) return NotFound();
        if (!Enum.IsDefined(tier)) return BadRequest();
        var name = string.IsNullOrWhiteSpace(displayName) || displayName.Trim() == model.DisplayName ? null : displayName.Trim();
        if (name is { Length: > 256 }) name = name[..256];
        var changes = new List<string>();
        if (name != model.DisplayNameOverride) changes.Add($"name → {name ?? "(upstream)"}");
        if (tier != model.TierRequired) changes.Add($"tier {model.TierRequired} → {tier}");
        if (hidden != model.Hidden) changes.Add(hidden ? "hidden" : "shown");
        model.DisplayNameOverride = name;
        model.TierRequired = tier;
        model.Hidden = hidden;
        if (changes.Count > 0)
        {
            audit.Record("model.update", "model", model, $"{model.ModelId}: {string.Join(", ", changes)}");
            await db.SaveChangesAsync(ct);
        }
        Status = changes.Count > 0 ? $"{model.ModelId}: {string.Join(", ", changes)}." : "Nothing changed.";
        return RedirectToPage(RouteValues());
    }

    /// <summary>Applies one change to every model matching the current filter (all pages), with its audit entry, in one save.</summary>
    public async Task<IActionResult> OnPostBulkAsync(string action, Tier? bulkTier, CancellationToken ct)
    {
        Action<AiModel>? change = action switch
        {
            "tier" when bulkTier is { } t && Enum.IsDefined(t) => m => m.TierRequired = t,
            "hide" => m => m.Hidden = true,
            "show" => m => m.Hidden = false,
            _ => null,
        };
        if (change is null)
        {
            Status = "Choose what to do with the selection.";
            return RedirectToPage(RouteValues());
        }
        // Tracked rather than ExecuteUpdate: the change and its audit entry commit together, and the
        // commit is what refreshes the catalogue and the router (CommittedChangesInterceptor).
        var models = await Filtered().AsTracking().ToListAsync(ct);
        foreach (var model in models) change(model);
        audit.Record("model.bulk", "model", null, $"{action}{(action == "tier" ? " " + bulkTier : "")} on {models.Count} model(s) matching {Describe()}");
        await db.SaveChangesAsync(ct);
        Status = $"{models.Count} model(s) updated.";
        return RedirectToPage(RouteValues());
    }

    IQueryable<AiModel> Filtered()
    {
        var query = db.Models.AsNoTracking();
        if (Provider is { } provider) query = query.Where(m => m.ProviderId == provider);
        if (!string.IsNullOrWhiteSpace(Q))
        {
            var q = Q.Trim().ToLowerInvariant();
            if (q.Contains('*'))
            {
                var pattern = q.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_").Replace('*', '%');
                // "claude-*" also matches aggregator ids with a vendor prefix, e.g. "anthropic/claude-3-haiku".
                var prefixed = pattern.StartsWith('%') ? pattern : "%/" + pattern;
                query = query.Where(m => EF.Functions.Like(m.ModelId.ToLower(), pattern, "\\")
                                         || EF.Functions.Like(m.ModelId.ToLower(), prefixed, "\\"));
            }
            else
            {
                query = query.Where(m => m.ModelId.ToLower().Contains(q) || m.DisplayName.ToLower().Contains(q)
                                         || (m.DisplayNameOverride != null && m.DisplayNameOverride.ToLower().Contains(q)));
            }
        }
        if (Type is { } type) query = query.Where(m => m.Type == type);
        if (Cap is { } cap && cap != ModelCapabilities.None) query = query.Where(m => (m.Capabilities & cap) == cap);
        if (Tier is { } tier) query = query.Where(m => m.TierRequired == tier);
        query = Show switch
        {
            "available" => query.Where(m => m.Available && !m.Hidden),
            "unavailable" => query.Where(m => !m.Available),
            "hidden" => query.Where(m => m.Hidden),
            _ => query,
        };
        return query;
    }

    object RouteValues() => new { Provider, Q, Type, Cap, Show, Tier, p = PageNumber };

    string Describe() => string.Join(", ", new[]
    {
        Provider is { } p ? $"provider {p}" : null, string.IsNullOrWhiteSpace(Q) ? null : $"\"{Q}\"",
        Type?.ToString(), Cap?.ToString(), Show, Tier is { } t ? $"tier {t}" : null,
    }.Where(x => x is not null).DefaultIfEmpty("everything"));

    public string PageUrl(int page) => QueryString.Create(new Dictionary<string, string?>
    {
        ["provider"] = Provider?.ToString(), ["q"] = Q, ["type"] = Type?.ToString(), ["cap"] = Cap?.ToString(),
        ["show"] = Show, ["tier"] = Tier?.ToString(), ["p"] = page.ToString(System.Globalization.CultureInfo.InvariantCulture),
    }.Where(kv => !string.IsNullOrEmpty(kv.Value))).ToUriComponent();
}
