using System.Text.RegularExpressions;
using Aggregator.E2E.Infrastructure;
using Aggregator.Web.Data;
using Aggregator.Web.Security;
using Aggregator.Web.Tests.Chats;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Aggregator.E2E.Admin;

/// <summary>The app with a known Admin account and no periodic sync (only the syncs a test asks for run).</summary>
public sealed class AdminApp : KestrelApp
{
    public const string AdminEmail = "admin-e2e@example.com";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Admin:Email"] = AdminEmail,
        ["Sync:SchedulerEnabled"] = "false",
    };

    public async Task<T> DbAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        await using var scope = Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    /// <summary>A provider with one key (named "test key"), straight into the database.</summary>
    public async Task<(int ProviderId, long KeyId)> SeedProviderAsync(string name, string baseUrl)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var provider = await ChatTestApp.SeedProviderAsync(db, scope.ServiceProvider.GetRequiredService<SecretBox>(), name, name + " display", baseUrl);
        var keyId = await db.ApiKeys.Where(k => k.ProviderId == provider.Id).Select(k => k.Id).SingleAsync();
        return (provider.Id, keyId);
    }

    /// <summary>Registers the Admin the first time, logs in afterwards.</summary>
    public static async Task SignInAsAdminAsync(IPage page, AdminApp app, string password)
    {
        var exists = await app.DbAsync(db => db.Users.AnyAsync(u => u.Email == AdminEmail));
        await page.GotoAsync(exists ? "/Account/Login" : "/Account/Register");
        await page.GetByLabel("Email").FillAsync(AdminEmail);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        if (!exists) await page.GetByLabel("Confirm password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = exists ? "Log in" : "Create account" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("^(?!.*/Account/).*$"));
    }
}
