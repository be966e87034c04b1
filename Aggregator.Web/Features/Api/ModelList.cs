using Microsoft.AspNetCore.Http.Features;

namespace Aggregator.Web.Features.Api;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c> in OpenAI's shape: only what the caller can use.</summary>
public static class ModelList
{
    public static async Task<IResult> ListAsync(HttpContext http, ApiCatalog catalog)
    {
        var caller = http.Features.GetRequiredFeature<ApiCaller>();
        var models = await catalog.ListAsync(caller, http.RequestAborted);
        return Results.Json(new ModelsPage("list", models.Select(Describe).ToList()));
    }

    public static async Task<IResult> GetAsync(HttpContext http, ApiCatalog catalog, string id)
    {
        var caller = http.Features.GetRequiredFeature<ApiCaller>();
        id = Uri.UnescapeDataString(id); // SDKs escape the slash of provider/model (%2F); routing leaves it escaped
        // The same rule as requests: a locked or disallowed model is simply not there for this caller.
        var model = (await catalog.ListAsync(caller, http.RequestAborted)).FirstOrDefault(m => m.Id == id)
                    ?? throw new ApiException(ApiError.ModelNotFound(id));
        return Results.Json(Describe(model));
    }

    static ModelObject Describe(ApiModel m) => new(m.Id, "model", 0, m.ProviderSlug);

    // snake_case as OpenAI writes it: the names are the wire names.
    sealed record ModelsPage(string @object, IReadOnlyList<ModelObject> data);
    sealed record ModelObject(string id, string @object, long created, string owned_by);
}
