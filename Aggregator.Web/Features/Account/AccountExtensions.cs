using System.Security.Claims;
using Aggregator.Web.Cluster;
using Aggregator.Web.Security;
using Aggregator.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Account;

public static class AccountExtensions
{
    public const string AdminRole = "Admin";
    public const string AdminPolicy = "Admin";
    public const string TierClaim = "aggregator:tier";

    public static IServiceCollection AddAccounts(this IServiceCollection services)
    {
        services.AddOptions<AdminOptions>().BindConfiguration("Admin");
        services.AddIdentity<AppUser, IdentityRole>(o =>
            {
                o.User.RequireUniqueEmail = true;
                o.Password.RequiredLength = 8;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequireUppercase = false;
                // A backstop only (LoginThrottle does the limiting): a stranger failing on purpose
                // locks the owner out for a minute at most.
                o.Lockout.MaxFailedAccessAttempts = 50;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(1);
                o.SignIn.RequireConfirmedAccount = false;
            })
            .AddEntityFrameworkStores<AppDbContext>()
            .AddDefaultTokenProviders()
            .AddClaimsPrincipalFactory<TierClaimsFactory>()
            .AddSignInManager<AppSignInManager>();
        services.AddMemoryCache();
        services.AddSingleton<AccountStates>();
        services.AddSingleton<ICommittedChangesListener>(sp => sp.GetRequiredService<AccountStates>());
        services.AddOptions<LoginThrottleOptions>().BindConfiguration("Login").ValidateDataAnnotations().ValidateOnStart();
        services.AddSharedState<IAttemptWindows, AttemptWindows, RedisAttemptWindows>();
        services.AddSingleton<LoginThrottle>();
        services.ConfigureApplicationCookie(o =>
        {
            o.LoginPath = "/Account/Login";
            o.LogoutPath = "/Account/Logout";
            o.Cookie.Name = "aggregator.auth";
            o.Cookie.HttpOnly = true;
            // Strict: no cross-site request (a form post, a link, a hub opened elsewhere) carries the session.
            o.Cookie.SameSite = SameSiteMode.Strict;
            // Replaces Identity's once-a-minute stamp check: every request meets the account as it is now.
            o.Events.OnValidatePrincipal = AccountStates.ValidateCookieAsync;
            o.SlidingExpiration = true;
            o.ExpireTimeSpan = TimeSpan.FromDays(14);
            // Signed in but not allowed: a real 403, not a redirect.
            o.Events.OnRedirectToAccessDenied = ctx => { ctx.Response.StatusCode = StatusCodes.Status403Forbidden; return Task.CompletedTask; };
            o.Events.OnRedirectToLogin = ctx =>
            {
                if (IsApiRequest(ctx.Request)) ctx.Response.StatusCode = StatusCodes.Status401Unauthorized;
                else ctx.Response.Redirect(ctx.RedirectUri);
                return Task.CompletedTask;
            };
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, p => p.RequireAuthenticatedUser().RequireRole(AdminRole));
        services.AddScoped<AdminBootstrap>();
        return services;
    }

    static bool IsApiRequest(HttpRequest request) =>
        request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/hubs")
        || request.Headers.Accept.Any(a => a?.Contains("application/json", StringComparison.OrdinalIgnoreCase) == true);

    public static Tier GetTier(this ClaimsPrincipal user) =>
        Enum.TryParse<Tier>(user.FindFirstValue(TierClaim), out var tier) ? tier : Tier.Free;

    public static string? GetUserId(this ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier);
}

public sealed class AdminOptions
{
    /// <summary>When set, this account is the Admin; otherwise the first account registered is.</summary>
    public string? Email { get; set; }
}

sealed class TierClaimsFactory(UserManager<AppUser> users, RoleManager<IdentityRole> roles, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<AppUser, IdentityRole>(users, roles, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(AppUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        identity.AddClaim(new Claim(AccountExtensions.TierClaim, user.Tier.ToString()));
        return identity;
    }
}

public static class AccountStartup
{
    public static async Task EnsureAdminRoleAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AdminBootstrap>().ApplyConfiguredAdminAsync();
    }
}
