namespace Aggregator.Web.Features.Admin.Dashboard;

public static class DashboardExtensions
{
    /// <summary>The admin dashboard (/Admin): its queries over the usage tables and the CSV export of their rows.</summary>
    public static IServiceCollection AddAdminDashboard(this IServiceCollection services)
    {
        services.AddScoped<DashboardQueries>();
        services.AddScoped<UsageCsv>();
        return services;
    }
}
