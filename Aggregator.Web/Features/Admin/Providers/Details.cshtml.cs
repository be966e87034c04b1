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
    public SyncStatusView SyncStatus { get; private set; } = null!;
    [TempData] public string? Status { get; set; }
    [TempData] public string? Warning { get; set; }
    [BindProperty] public KeyInput NewKey { get; set; } = new();

    public sealed class KeyInput
    {
        [StringLength(128)] public string? Name { get; set; }
        [Required(ErrorMessage = "Paste the API key."), DataType(DataType.Password)] public string Secret { get; set; } = "";
    }

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken ct) => await LoadAsync(id, ct) ? Page() : NotFound();

    /// <summary>
    /// Polled by the page while a sync runs: the same partials the page renders, from one read, so the live
    /// figures (counts, last sync, the run's state and duration) always agree with each other and with a reload.
    /// </summary>
    public async Task<IActionResult> OnGetSyncStatusAsync(int id, CancellationToken ct)
    {
        var provider = await db.Providers.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, ct);
        if (provider is null) return NotFound();
        return Partial("_SyncLive", await StatusAsync(provider, showResult: true, ct));
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
        // Said here, not after the fact: a sync without a usable key would end before it starts, with nothing to show.
        if (!provider.Enabled)
        {
            Warning = $"{provider.DisplayName} is disabled: enable it (Edit) before syncing.";
            return Redirect($"/Admin/Providers/Details/{id}");
        }
        if (!await db.ApiKeys.AnyAsync(k => k.ProviderId == id && k.Active && k.DeletedAt == null, ct))
        {
            Warning = "Add an active API key first: the model list is fetched with one of the provider's keys.";
            return Redirect($"/Admin/Providers/Details/{id}");
        }
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
        SyncStatus = await StatusAsync(provider, showResult: false, ct);
        return true;
    }

    async Task<SyncStatusView> StatusAsync(Provider provider, bool showResult, CancellationToken ct)
    {
        // Pending is read first: a sync that ends between these reads then shows as still running for one more poll,
        // never as finished with figures from before it ran.
        var pending = scheduler.IsPending(provider.Id);
        var runs = await db.SyncRuns.AsNoTracking().Where(r => r.ProviderId == provider.Id).OrderByDescending(r => r.Id).Take(20).ToListAsync(ct);
        // One statement, after the runs: a run read as finished has its counts and LastSyncedAt already written
        // (ModelSync saves them together), so the figures never contradict the history.
        var now = await db.Providers.Where(p => p.Id == provider.Id)
            .Select(p => new { p.LastSyncedAt, Total = p.Models.Count(), Available = p.Models.Count(m => m.Available) })
            .FirstAsync(ct);
        pending |= runs.FirstOrDefault()?.Status == SyncRunStatus.Running;
        return new SyncStatusView(provider, now.LastSyncedAt, now.Available, now.Total, runs, pending, showResult);
    }
}

/// <summary>The figures the provider page shows about syncing, read together.</summary>
public sealed record SyncStatusView(Provider Provider, DateTime? LastSyncedAt, int AvailableModels, int TotalModels,
    IReadOnlyList<SyncRun> Runs, bool Pending, bool ShowResult);
