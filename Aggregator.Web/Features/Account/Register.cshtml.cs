using System.ComponentModel.DataAnnotations;
using Aggregator.Web.Data;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aggregator.Web.Features.Account;

[AllowAnonymous]
public sealed class RegisterModel(UserManager<AppUser> users, SignInManager<AppUser> signIn, AdminBootstrap admin) : PageModel
{
    [BindProperty] public RegisterInput Input { get; set; } = new();

    public sealed class RegisterInput
    {
        [Required, EmailAddress, StringLength(256)] public string Email { get; set; } = "";
        [Required, DataType(DataType.Password), StringLength(128, MinimumLength = 8, ErrorMessage = "The password must be at least 8 characters.")] public string Password { get; set; } = "";
        [Required, DataType(DataType.Password), Compare(nameof(Password), ErrorMessage = "The passwords do not match.")]
        [Display(Name = "Confirm password")] public string ConfirmPassword { get; set; } = "";
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid) return Page();
        var email = Input.Email.Trim();
        var user = new AppUser { UserName = email, Email = email, Tier = Tier.Free, CreatedAt = DateTime.UtcNow };
        var result = await users.CreateAsync(user, Input.Password);
        if (!result.Succeeded)
        {
            // The user name is the email, so a taken email fails twice (DuplicateUserName, DuplicateEmail): say it once.
            foreach (var message in result.Errors.Select(e => e.Code is "DuplicateUserName" or "DuplicateEmail"
                         ? "An account with this email already exists." : e.Description).Distinct())
                ModelState.AddModelError("", message);
            return Page();
        }
        await admin.OnRegisteredAsync(user);
        await signIn.SignInAsync(user, isPersistent: true);
        return LocalRedirect("/");
    }
}
