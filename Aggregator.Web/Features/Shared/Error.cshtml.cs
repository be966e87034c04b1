using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aggregator.Web.Features.Shared;

[AllowAnonymous, IgnoreAntiforgeryToken, ResponseCache(NoStore = true)]
public sealed class ErrorModel : PageModel
{
    public int Code { get; private set; }
    public string Title => Code switch { 403 => "Forbidden", 404 => "Not found", 400 => "Bad request", _ => "Something went wrong" };
    public string Explanation => Code switch
    {
        403 => "Your account is not allowed to open this page.",
        404 => "There is nothing here, or it is not yours.",
        _ => "The error was logged. Try again in a moment.",
    };

    public void OnGet(int? code) => Code = code ?? 500;
    public void OnPost(int? code) => Code = code ?? 500;
}
