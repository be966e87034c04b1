using System.ComponentModel.DataAnnotations;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Chat;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aggregator.Web.Features.Account;

/// <summary>The user's custom instructions: the system prompt of every conversation that sets none of its own.</summary>
public sealed class InstructionsModel(UserManager<AppUser> users) : PageModel
{
    [BindProperty, Display(Name = "Custom instructions"), DataType(DataType.MultilineText)]
    public string? CustomInstructions { get; set; }
    [TempData] public string? Status { get; set; }
    public int MaxChars => ChatSettingsRules.InstructionsMaxChars;

    public async Task<IActionResult> OnGetAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null) return Challenge();
        CustomInstructions = user.CustomInstructions;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (ChatSettingsRules.InstructionsProblem(CustomInstructions) is { } problem) ModelState.AddModelError(nameof(CustomInstructions), problem);
        if (!ModelState.IsValid) return Page();
        var user = await users.GetUserAsync(User);
        if (user is null) return Challenge();
        user.CustomInstructions = string.IsNullOrWhiteSpace(CustomInstructions) ? null : CustomInstructions.Trim();
        var result = await users.UpdateAsync(user);
        if (!result.Succeeded)
        {
            ModelState.AddModelError("", "Your custom instructions could not be saved. Try again.");
            return Page();
        }
        Status = user.CustomInstructions is null ? "Custom instructions cleared." : "Custom instructions saved.";
        return RedirectToPage();
    }
}
