using Aggregator.Web.Data;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Admin.Providers;

public sealed class IndexModel(AppDbContext db, AuditLog audit) : PageModel
{
    public IReadOnlyList<ProviderRow> Rows { get; private set; } = [];
    [TempData] public string? Status { get; set; }

    public sealed record ProviderRow(
        int Id, string Name, string DisplayName, ProviderKind Kind, ApiStandard Standard, string BaseUrl, bool Enabled, bool IsDemo,
        int ActiveKeys, int Models, DateTime? LastSyncedAt, SyncRunStatus? LastStatus, string? LastError);

    public async Task OnGetAsync(CancellationToken ct)
    {
        Rows = await db.Providers.AsNoTracking().OrderBy(p => p.Kind).ThenBy(p => p.DisplayName)
            .Select(p => new ProviderRow(p.Id, p.Name, p.DisplayName, p.Kind, p.ApiStandard, p.BaseUrl, p.Enabled, p.IsDemo,
                p.Keys.Count(k => k.Active && k.DeletedAt == null),
                p.Models.Count(m => m.Available),
                p.LastSyncedAt,
                db.SyncRuns.Where(r => r.ProviderId == p.Id).OrderByDescending(r => r.StartedAt).Select(r => (SyncRunStatus?)r.Status).FirstOrDefault(),
                db.SyncRuns.Where(r => r.ProviderId == p.Id).OrderByDescending(r => r.StartedAt).Select(r => r.Error).FirstOrDefault()))
            .ToListAsync(ct);
    }

    public async Task<IActionResult> OnPostToggleAsync(int id, CancellationToken ct)
    {
        var provider = await db.Providers.FindAsync([id], ct);
        if (provider is null) return NotFound();
        provider.Enabled = !provider.Enabled;
        audit.Record(provider.Enabled ? "provider.enable" : "provider.disable", "provider", provider, provider.DisplayName);
        await db.SaveChangesAsync(ct);
        Status = $"{provider.DisplayName} is now {(provider.Enabled ? "enabled" : "disabled")}.";
        return RedirectToPage();
    }
}
