using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Chat;

/// <summary>A preset as the page shows it in the model selector and the settings dialog.</summary>
public sealed record PresetView(long Id, string Name, long? ModelId, ChatSettings Settings);

/// <summary>
/// A user's presets (a named model + system prompt + parameters). Every query filters on the owner inside its
/// Where, so another user's preset id simply finds nothing. Callers validate the settings against the model first.
/// </summary>
public sealed class ChatPresets(AppDbContext db)
{
    IQueryable<ChatPreset> Owned(string userId) => db.Presets.Where(p => p.UserId == userId);

    public async Task<IReadOnlyList<PresetView>> ListAsync(string userId, CancellationToken ct) =>
        (await Owned(userId).AsNoTracking().OrderBy(p => p.Name).ThenBy(p => p.Id).ToListAsync(ct)).Select(View).ToList();

    public async Task<PresetView?> FindAsync(string userId, long id, CancellationToken ct) =>
        await Owned(userId).AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, ct) is { } p ? View(p) : null;

    public async Task<PresetView> CreateAsync(string userId, string name, long modelId, ChatSettings settings, CancellationToken ct)
    {
        var preset = new ChatPreset { UserId = userId, Name = name.Trim(), ModelId = modelId };
        settings.ApplyTo(preset);
        db.Presets.Add(preset);
        await db.SaveChangesAsync(ct);
        return View(preset);
    }

    public async Task<PresetView?> RenameAsync(string userId, long id, string name, CancellationToken ct)
    {
        var preset = await Owned(userId).FirstOrDefaultAsync(p => p.Id == id, ct);
        if (preset is null) return null;
        preset.Name = name.Trim();
        await db.SaveChangesAsync(ct);
        return View(preset);
    }

    public async Task<bool> DeleteAsync(string userId, long id, CancellationToken ct) =>
        await Owned(userId).Where(p => p.Id == id).ExecuteDeleteAsync(ct) == 1;

    public Task<bool> NameTakenAsync(string userId, string name, long? except, CancellationToken ct)
    {
        var trimmed = name.Trim().ToLower();
        return Owned(userId).AnyAsync(p => p.Name.ToLower() == trimmed && p.Id != except, ct);
    }

    static PresetView View(ChatPreset p) => new(p.Id, p.Name, p.ModelId, ChatSettings.Of(p));
}
