using System.ComponentModel.DataAnnotations;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Sync;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Admin.Providers;

public sealed class DetailsModel(AppDbContext db, ApiKeyService keys, SyncScheduler scheduler, AuditLog audit) : PageModel
{
    public Provider Provider { get; private set; } = null!;
    public IReadOnlyList<ApiKey> Keys { get; private set; } = [];
    public IReadOnlyList<SyncRun> Runs { get; private set; } = [];
    public int AvailableModels { get; private set; }
    public int TotalModels { get; private set; }
    public bool SyncPending { get; private set; }
    [TempData] public string? Status { get; set; }
    [TempData] public string? Warning { get; set; }
    [BindProperty] public KeyInput NewKey { get; set; } = new();

    public sealed class KeyInput
    {
        [StringLength(128)] public string? Name { get; set; }
        [Required(ErrorMessage = "Paste the API key."), DataType(DataType.Password)] public string Secret { get; set; } = "";
    }

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken ct) => await LoadAsync(id, ct) ? Page() : NotFound();

    /// <summary>Polled by the page while a sync runs, so the result shows without a reload.</summary>
    public async Task<IActionResult> OnGetSyncStatusAsync(int id, CancellationToken ct)
    {
        if (!await db.Providers.AnyAsync(p => p.Id == id, ct)) return NotFound();
        var last = await db.SyncRuns.AsNoTracking().Where(r => r.ProviderId == id).OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct);
        return new JsonResult(new
        {
            pending = scheduler.IsPending(id) || last?.Status == SyncRunStatus.Running,
            models = await db.Models.CountAsync(m => m.ProviderId == id && m.Available, ct),
            lastRun = last is null ? null : new { last.Id, status = last.Status.ToString(), last.Added, last.Updated, last.Removed, last.Unchanged, last.Attempts, last.DurationMs, last.Error },
        });
    }

    public async Task<IActionResult> OnPostAddKeyAsync(int id, CancellationToken ct)
    {
        if (!ModelState.IsValid) return await LoadAsync(id, ct) ? Page() : NotFound();
        var (key, error, queued) = await keys.AddAsync(id, NewKey.Name ?? "", NewKey.Secret, ct);
        if (error is not null)
        {
            ModelState.AddModelError("NewKey.Secret", error);
            NewKey.Secret = "";
            return await LoadAsync(id, ct) ? Page() : NotFound();
        }
        Status = $"Key {key!.MaskedHint} added." + (queued ? " Syncing models…" : "");
        return Redirect($"/Admin/Providers/Details/{id}");
    }

    public async Task<IActionResult> OnPostSyncAsync(int id, CancellationToken ct)
    {
        var provider = await db.Providers.FindAsync([id], ct);
        if (provider is null) return NotFound();
        var queued = scheduler.Request(id, "manual");
        audit.Record("provider.sync", "provider", id, provider.DisplayName);
        await db.SaveChangesAsync(ct);
        Status = queued ? "Sync started…" : "A sync of this provider is already queued.";
        return Redirect($"/Admin/Providers/Details/{id}");
    }

    public Task<IActionResult> OnPostEnableKeyAsync(int id, long keyId, CancellationToken ct) => SetActiveAsync(id, keyId, true, ct);

    public Task<IActionResult> OnPostDisableKeyAsync(int id, long keyId, CancellationToken ct) => SetActiveAsync(id, keyId, false, ct);

    async Task<IActionResult> SetActiveAsync(int id, long keyId, bool active, CancellationToken ct)
    {
        Status = await keys.SetActiveAsync(keyId, active, ct) ?? "No such key.";
        return Redirect($"/Admin/Providers/Details/{id}");
    }

    public async Task<IActionResult> OnPostDeleteKeyAsync(int id, long keyId, CancellationToken ct)
    {
        Status = await keys.DeleteAsync(keyId, ct) ?? "No such key.";
        return Redirect($"/Admin/Providers/Details/{id}");
    }

    public async Task<IActionResult> OnPostTestKeyAsync(int id, long keyId, CancellationToken ct)
    {
        var result = await keys.TestAsync(keyId, ct);
        Status = result is null ? "No such key." : $"Test of {result.Key}: {result.Message} in {result.LatencyMs} ms.";
        return Redirect($"/Admin/Providers/Details/{id}");
    }

    async Task<bool> LoadAsync(int id, CancellationToken ct)
    {
        var provider = await db.Providers.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, ct);
        if (provider is null) return false;
        Provider = provider;
        Keys = await db.ApiKeys.AsNoTracking().Where(k => k.ProviderId == id && k.DeletedAt == null).OrderBy(k => k.Id).ToListAsync(ct);
        Runs = await db.SyncRuns.AsNoTracking().Where(r => r.ProviderId == id).OrderByDescending(r => r.Id).Take(20).ToListAsync(ct);
        AvailableModels = await db.Models.CountAsync(m => m.ProviderId == id && m.Available, ct);
        TotalModels = await db.Models.CountAsync(m => m.ProviderId == id, ct);
        SyncPending = scheduler.IsPending(id) || Runs.FirstOrDefault()?.Status == SyncRunStatus.Running;
        return true;
    }
}
