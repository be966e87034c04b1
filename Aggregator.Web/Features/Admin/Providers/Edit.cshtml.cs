using System.ComponentModel.DataAnnotations;
using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Sync;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Admin.Providers;

public sealed class EditModel(AppDbContext db, AuditLog audit) : PageModel
{
    [BindProperty] public ProviderInput Input { get; set; } = new();
    public bool IsNew => Input.Id == 0;
    public IReadOnlyList<ProviderPreset> Presets => ProviderPresets.All;
    public string? Warning { get; private set; }
    /// <summary>Set when the save would send this provider's keys to a new host: the admin must type it.</summary>
    public string? HostToConfirm { get; private set; }

    /// <summary>Bootstrap's error styling for a field the last post rejected.</summary>
    public string Invalid(string field) =>
        ModelState.GetFieldValidationState("Input." + field) == ModelValidationState.Invalid ? "is-invalid" : "";

    public sealed class ProviderInput
    {
        public int Id { get; set; }
        // Upper case is accepted here and lowered on save.
        [Required, StringLength(64), Display(Name = "Slug"), RegularExpression("^[A-Za-z0-9][A-Za-z0-9-]*$", ErrorMessage = "The slug may contain letters, digits and dashes, and starts with a letter or digit.")]
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
        [Display(Name = "Probe models with no recent traffic (one-token requests, so their health is known)")] public bool HealthProbe { get; set; }
        [Range(1, 10080), Display(Name = "Hide a model failing for (minutes; empty = never)")] public int? AutoHideFailingMinutes { get; set; }
        /// <summary>The new host typed by the admin to confirm that the provider's keys may go there.</summary>
        [Display(Name = "Confirm the new host")] public string? ConfirmHost { get; set; }
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
                AllowFallback = p.AllowFallback, Enabled = p.Enabled, HealthProbe = p.HealthProbe, AutoHideFailingMinutes = p.AutoHideFailingMinutes,
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
        // Empty fields bind as null; the [Required] errors already say what is missing.
        Input.Name = (Input.Name ?? "").Trim().ToLowerInvariant();
        Input.DisplayName = (Input.DisplayName ?? "").Trim();
        Input.BaseUrl = (Input.BaseUrl ?? "").Trim().TrimEnd('/');
        Input.ModelsUrl = string.IsNullOrWhiteSpace(Input.ModelsUrl) ? null : Input.ModelsUrl.Trim();
        if (Input.BaseUrl.Length > 0) ValidateUrl(nameof(Input.BaseUrl), Input.BaseUrl, "Base URL");
        if (Input.ModelsUrl is not null) ValidateUrl(nameof(Input.ModelsUrl), Input.ModelsUrl, "Model list URL");
        if (Input.Name.Length > 0 && await db.Providers.AnyAsync(p => p.Name == Input.Name && p.Id != Input.Id, ct))
            ModelState.AddModelError("Input.Name", $"A provider with the slug \"{Input.Name}\" already exists.");
        if (!ModelState.IsValid) return Page();

        var provider = Input.Id == 0 ? null : await db.Providers.FindAsync([Input.Id], ct);
        if (Input.Id != 0 && provider is null) return NotFound();
        var newHost = provider is null ? null : await NewKeyHostAsync(provider, ct);
        if (newHost is not null && !string.Equals(Input.ConfirmHost?.Trim(), newHost, StringComparison.OrdinalIgnoreCase))
        {
            HostToConfirm = newHost;
            ModelState.AddModelError("Input.ConfirmHost", Input.ConfirmHost is { Length: > 0 }
                ? $"That is not {newHost}. Nothing was saved."
                : $"The keys of this provider will be sent to {newHost}. Type the host to confirm; nothing was saved.");
            Input.ConfirmHost = null;
            return Page();
        }
        if (provider is null)
        {
            provider = new Provider { Name = Input.Name, DisplayName = Input.DisplayName, BaseUrl = Input.BaseUrl };
            db.Providers.Add(provider);
        }
        provider.Name = Input.Name;
        provider.DisplayName = Input.DisplayName;
        provider.Kind = Input.Kind;
        provider.ApiStandard = Input.ApiStandard;
        provider.BaseUrl = Input.BaseUrl;
        provider.ModelsUrl = Input.ModelsUrl;
        provider.ListShape = Input.ListShape;
        provider.SyncIntervalMinutes = Input.SyncIntervalMinutes;
        provider.DefaultTier = Input.DefaultTier;
        provider.AllowFallback = Input.AllowFallback;
        provider.Enabled = Input.Enabled;
        provider.HealthProbe = Input.HealthProbe;
        provider.AutoHideFailingMinutes = Input.AutoHideFailingMinutes;
        audit.Record(Input.Id == 0 ? "provider.create" : "provider.update", "provider", provider,
            $"{provider.DisplayName} ({provider.Kind}, {provider.ApiStandard}) {provider.BaseUrl}"
            + (newHost is null ? "" : $"; keys now sent to {newHost} (confirmed)"));
        await db.SaveChangesAsync(ct);
        TempData["Status"] = Input.Id == 0 ? $"{provider.DisplayName} was added. Add an API key to sync its models." : $"{provider.DisplayName} was saved.";
        return Redirect($"/Admin/Providers/Details/{provider.Id}");
    }

    /// <summary>
    /// The first host (scheme, host and port) the edited URLs would send this provider's keys to that
    /// its saved URLs do not, or null. A provider without keys sends nothing, so needs no confirmation.
    /// </summary>
    async Task<string?> NewKeyHostAsync(Provider saved, CancellationToken ct)
    {
        static string? Origin(string? url) =>
            Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant() : null;
        static string Host(string origin) => new Uri(origin).Authority;
        var known = new[] { Origin(saved.BaseUrl), Origin(saved.ModelsUrl) };
        var added = new[] { Origin(Input.BaseUrl), Origin(Input.ModelsUrl) }.FirstOrDefault(o => o is not null && !known.Contains(o));
        if (added is null) return null;
        return await db.ApiKeys.AnyAsync(k => k.ProviderId == saved.Id && k.DeletedAt == null, ct) ? Host(added) : null;
    }

    void ValidateUrl(string field, string value, string label)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
            ModelState.AddModelError("Input." + field, $"{label} must be an absolute http:// or https:// URL.");
        else if (uri.Scheme == "http" && !uri.IsLoopback)
            TempData["Warning"] = $"{label} uses plain http: API keys will cross the network unencrypted.";
    }
}
