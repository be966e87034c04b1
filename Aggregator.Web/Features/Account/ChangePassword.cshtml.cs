using System.ComponentModel.DataAnnotations;
using Aggregator.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aggregator.Web.Features.Account;

public sealed class ChangePasswordModel(UserManager<AppUser> users, SignInManager<AppUser> signIn) : PageModel
{
    [BindProperty] public ChangePasswordInput Input { get; set; } = new();
    [TempData] public string? Status { get; set; }

    public sealed class ChangePasswordInput
    {
        [Required, DataType(DataType.Password), Display(Name = "Current password")] public string CurrentPassword { get; set; } = "";
        [Required, DataType(DataType.Password), StringLength(128, MinimumLength = 8, ErrorMessage = "The new password must be at least 8 characters."), Display(Name = "New password")] public string NewPassword { get; set; } = "";
        [Required, DataType(DataType.Password), Compare(nameof(NewPassword), ErrorMessage = "The passwords do not match."), Display(Name = "Confirm new password")]
        public string ConfirmPassword { get; set; } = "";
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid) return Page();
        var user = await users.GetUserAsync(User);
        if (user is null) return Challenge();
        var result = await users.ChangePasswordAsync(user, Input.CurrentPassword, Input.NewPassword);
        if (!result.Succeeded)
        {
            foreach (var error in result.Errors)
                ModelState.AddModelError("", error.Code == "PasswordMismatch" ? "The current password is wrong." : error.Description);
            return Page();
        }
        await signIn.RefreshSignInAsync(user);
        Status = "Your password was changed.";
        return RedirectToPage();
    }
}
