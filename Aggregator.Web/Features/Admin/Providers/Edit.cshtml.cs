using System.ComponentModel.DataAnnotations;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Upstream.Sync;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Admin.Providers;

public sealed class EditModel(AppDbContext db, AuditLog audit, CatalogCache catalog) : PageModel
{
    [BindProperty] public ProviderInput Input { get; set; } = new();
    public bool IsNew => Input.Id == 0;
    public IReadOnlyList<ProviderPreset> Presets => ProviderPresets.All;
    public string? Warning { get; private set; }

    public sealed class ProviderInput
    {
        public int Id { get; set; }
        [Required, StringLength(64), RegularExpression("^[a-z0-9][a-z0-9-]*$", ErrorMessage = "The slug may contain lowercase letters, digits and dashes.")]
        public string Name { get; set; } = "";
        [Required, StringLength(128), Display(Name = "Display name")] public string DisplayName { get; set; } = "";
        public ProviderKind Kind { get; set; }
        [Display(Name = "API standard")] public ApiStandard ApiStandard { get; set; }
        [Required, StringLength(512), Display(Name = "Base URL")] public string BaseUrl { get; set; } = "";
        [StringLength(512), Display(Name = "Model list URL")] public string? ModelsUrl { get; set; }
        [Display(Name = "Model list shape")] public ModelListShape ListShape { get; set; }
        [Range(0, 10080), Display(Name = "Sync interval (minutes, 0 = manual only)")] public int SyncIntervalMinutes { get; set; } = 360;
        [Display(Name = "Tier for new models")] public Tier DefaultTier { get; set; }
        [Display(Name = "Allow fallback to other providers serving the same model id")] public bool AllowFallback { get; set; }
        public bool Enabled { get; set; } = true;
    }

    public async Task<IActionResult> OnGetAsync(int? id, string? preset, CancellationToken ct)
    {
        if (id is { } existing)
        {
            var p = await db.Providers.AsNoTracking().FirstOrDefaultAsync(x => x.Id == existing, ct);
            if (p is null) return NotFound();
            Input = new ProviderInput
            {
                Id = p.Id, Name = p.Name, DisplayName = p.DisplayName, Kind = p.Kind, ApiStandard = p.ApiStandard, BaseUrl = p.BaseUrl,
                ModelsUrl = p.ModelsUrl, ListShape = p.ListShape, SyncIntervalMinutes = p.SyncIntervalMinutes, DefaultTier = p.DefaultTier,
                AllowFallback = p.AllowFallback, Enabled = p.Enabled,
            };
        }
        else if (ProviderPresets.Find(preset) is { } chosen)
        {
            Input = new ProviderInput
            {
                Name = chosen.Name == "custom" ? "" : chosen.Name, DisplayName = chosen.Name == "custom" ? "" : chosen.DisplayName,
                Kind = chosen.Kind, ApiStandard = chosen.ApiStandard, BaseUrl = chosen.BaseUrl, ModelsUrl = chosen.ModelsUrl,
                ListShape = chosen.ListShape, DefaultTier = chosen.DefaultTier,
            };
        }
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        Input.Name = Input.Name.Trim().ToLowerInvariant();
        Input.BaseUrl = Input.BaseUrl.Trim().TrimEnd('/');
        Input.ModelsUrl = string.IsNullOrWhiteSpace(Input.ModelsUrl) ? null : Input.ModelsUrl.Trim();
        ValidateUrl(nameof(Input.BaseUrl), Input.BaseUrl, "Base URL");
        if (Input.ModelsUrl is not null) ValidateUrl(nameof(Input.ModelsUrl), Input.ModelsUrl, "Model list URL");
        if (await db.Providers.AnyAsync(p => p.Name == Input.Name && p.Id != Input.Id, ct))
            ModelState.AddModelError("Input.Name", $"A provider with the slug \"{Input.Name}\" already exists.");
        if (!ModelState.IsValid) return Page();

        var provider = Input.Id == 0 ? null : await db.Providers.FindAsync([Input.Id], ct);
        if (Input.Id != 0 && provider is null) return NotFound();
        if (provider is null)
        {
            provider = new Provider { Name = Input.Name, DisplayName = Input.DisplayName, BaseUrl = Input.BaseUrl };
            db.Providers.Add(provider);
        }
        provider.Name = Input.Name;
        provider.DisplayName = Input.DisplayName.Trim();
        provider.Kind = Input.Kind;
        provider.ApiStandard = Input.ApiStandard;
        provider.BaseUrl = Input.BaseUrl;
        provider.ModelsUrl = Input.ModelsUrl;
        provider.ListShape = Input.ListShape;
        provider.SyncIntervalMinutes = Input.SyncIntervalMinutes;
        provider.DefaultTier = Input.DefaultTier;
        provider.AllowFallback = Input.AllowFallback;
        provider.Enabled = Input.Enabled;
        await db.SaveChangesAsync(ct);
        audit.Record(Input.Id == 0 ? "provider.create" : "provider.update", "provider", provider.Id,
            $"{provider.DisplayName} ({provider.Kind}, {provider.ApiStandard}) {provider.BaseUrl}");
        await db.SaveChangesAsync(ct);
        await catalog.InvalidateAsync(ct);
        TempData["Status"] = Input.Id == 0 ? $"{provider.DisplayName} was added. Add an API key to sync its models." : $"{provider.DisplayName} was saved.";
        return Redirect($"/Admin/Providers/Details/{provider.Id}");
    }

    void ValidateUrl(string field, string value, string label)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
            ModelState.AddModelError("Input." + field, $"{label} must be an absolute http:// or https:// URL.");
        else if (uri.Scheme == "http" && !uri.IsLoopback)
            TempData["Warning"] = $"{label} uses plain http: API keys will cross the network unencrypted.";
    }
}
