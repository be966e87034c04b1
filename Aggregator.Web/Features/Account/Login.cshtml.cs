using System.ComponentModel.DataAnnotations;
using Aggregator.Web.Data;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aggregator.Web.Features.Account;

[AllowAnonymous]
public sealed class LoginModel(SignInManager<AppUser> signIn, LoginThrottle throttle) : PageModel
{
    [BindProperty] public LoginInput Input { get; set; } = new();
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }

    public sealed class LoginInput
    {
        [Required, EmailAddress] public string Email { get; set; } = "";
        [Required, DataType(DataType.Password)] public string Password { get; set; } = "";
        public bool RememberMe { get; set; } = true;
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid) return Page();
        var email = Input.Email.Trim();
        if (await throttle.RefuseAsync(HttpContext.Connection.RemoteIpAddress, signIn.UserManager.NormalizeEmail(email), HttpContext.RequestAborted) is { } wait)
        {
            var seconds = (int)Math.Ceiling(wait.TotalSeconds);
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            ModelState.AddModelError("", $"Too many attempts. Try again in {seconds} s.");
            return Page();
        }
        var result = await signIn.PasswordSignInAsync(email, Input.Password, Input.RememberMe, lockoutOnFailure: true);
        if (result.Succeeded) return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/");
        ModelState.AddModelError("", result.IsLockedOut
            ? "This account is locked after too many failed attempts. Try again in a minute."
            : "Wrong email or password.");
        return Page();
    }
}
