using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Sync;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Admin.Models;

/// <summary>One model: its metadata and what each sync changed on it, newest first (the design's "model version control").</summary>
public sealed class DetailsModel(AppDbContext db) : PageModel
{
    const int MaxHistory = 200;

    public AiModel Item { get; private set; } = null!;
    public string ProviderName { get; private set; } = "";
    public IReadOnlyList<HistoryEntry> History { get; private set; } = [];

    public sealed record HistoryEntry(DateTime At, long? SyncRunId, ModelChangeKind Kind, IReadOnlyList<FieldChange> Fields);

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        var model = await db.Models.AsNoTracking().Include(m => m.Provider).FirstOrDefaultAsync(m => m.Id == id, ct);
        if (model is null) return NotFound();
        Item = model;
        ProviderName = model.Provider?.DisplayName ?? "";
        History = (await db.ModelChanges.AsNoTracking().Where(c => c.ModelId == id)
                .OrderByDescending(c => c.At).ThenByDescending(c => c.Id).Take(MaxHistory)
                .Select(c => new { c.At, c.SyncRunId, c.Kind, c.Changes }).ToListAsync(ct))
            .Select(c => new HistoryEntry(c.At, c.SyncRunId, c.Kind, ModelDiff.FromJson(c.Changes))).ToList();
        return Page();
    }

    public static string KindText(ModelChangeKind kind) => kind switch
    {
        ModelChangeKind.Added => "added",
        ModelChangeKind.Changed => "metadata changed",
        ModelChangeKind.Removed => "removed (no longer listed)",
        _ => "came back (listed again)",
    };
}
