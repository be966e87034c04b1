using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aggregator.Web.Features.Sharing;

/// <summary>
/// The public, read-only page of a share link: no login, not indexed, the snapshot taken when the
/// link was made. An unknown, revoked or deleted link is a plain 404 (which of these is not told).
/// </summary>
[AllowAnonymous]
public sealed class SharedModel(ShareLinks shares) : PageModel
{
    public SharedPage Share { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(string token, CancellationToken ct)
    {
        // Set before anything else so the 404 page is not indexed either.
        Response.Headers["X-Robots-Tag"] = "noindex, nofollow";
        Response.Headers.CacheControl = "no-store"; // a revoked link must not live on in a cache
        var share = await shares.OpenAsync(token, ct);
        if (share is null) return NotFound();
        Share = share;
        return Page();
    }
}
