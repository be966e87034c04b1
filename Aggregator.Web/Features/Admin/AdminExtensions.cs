using Aggregator.Web.Features.Account;
using Aggregator.Web.Features.Admin.Dashboard;
using Microsoft.AspNetCore.Mvc.ApplicationModels;

namespace Aggregator.Web.Features.Admin;

public static class AdminExtensions
{
    public static IServiceCollection AddAdmin(this IServiceCollection services)
    {
        services.AddScoped<AuditLog>();
        services.AddScoped<Providers.ApiKeyService>();
        services.AddHttpClient(Providers.ApiKeyService.TestClientName);
        services.AddAdminDashboard();
        return services;
    }

    /// <summary>Every page under /Admin requires the Admin role: 403 when signed in, log-in redirect otherwise.</summary>
    public static PageConventionCollection AuthorizeAdminPages(this PageConventionCollection conventions) =>
        conventions.AuthorizeFolder("/Admin", AccountExtensions.AdminPolicy);
}
