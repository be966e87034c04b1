using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aggregator.Web.Features.Chat;

[Authorize]
public sealed class IndexModel : PageModel
{
    public void OnGet() { }
}
