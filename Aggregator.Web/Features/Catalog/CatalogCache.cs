using Microsoft.Extensions.Caching.Hybrid;

namespace Aggregator.Web.Features.Catalog;

/// <summary>
/// The one place that invalidates the cached catalogue. Admin changes (key added or disabled,
/// provider toggled, sync finished, model edited) call <see cref="InvalidateAsync"/>.
/// </summary>
public sealed class CatalogCache(HybridCache cache)
{
    public const string Tag = "catalog";

    public ValueTask InvalidateAsync(CancellationToken cancellationToken = default) =>
        cache.RemoveByTagAsync(Tag, cancellationToken);
}
