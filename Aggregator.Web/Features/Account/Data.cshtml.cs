using Aggregator.Web.Features.Sharing;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Account;

/// <summary>The user's data: download it all, import a ChatGPT export, see and revoke share links.</summary>
public sealed class DataModel(ShareLinks shares, IOptions<ImportOptions> import) : PageModel
{
    [TempData(Key = SharingExtensions.ImportStatusKey)] public string? ImportStatus { get; set; }
    [TempData(Key = SharingExtensions.ImportErrorKey)] public string? ImportError { get; set; }
    [TempData] public string? Status { get; set; }
    public IReadOnlyList<ShareRow> Shares { get; private set; } = [];
    public string MaxImport => $"{import.Value.MaxBytes / (1024.0 * 1024):0.#} MB";
    public string ShareBase => $"{Request.Scheme}://{Request.Host}{Request.PathBase}";

    public async Task OnGetAsync(CancellationToken ct) => Shares = await shares.ListAsync(User.GetUserId()!, ct);

    public async Task<IActionResult> OnPostRevokeAsync(Guid id, CancellationToken ct)
    {
        if (!await shares.RevokeAsync(User.GetUserId()!, id, ct)) return NotFound();
        Status = "The link is revoked: it opens nothing from now on.";
        return RedirectToPage();
    }
}
