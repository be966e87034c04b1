namespace Aggregator.Web.Features.Catalog;

public static class CatalogExtensions
{
    public static IServiceCollection AddCatalog(this IServiceCollection services)
    {
        services.AddSingleton<CatalogCache>();
        return services;
    }
}
