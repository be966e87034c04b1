using Aggregator.Web.Features.Health;
using Microsoft.AspNetCore.Http.Features;

namespace Aggregator.Web.Features.Api;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c> in OpenAI's shape: only what the caller can use.</summary>
public static class ModelList
{
    public static async Task<IResult> ListAsync(HttpContext http, ApiCatalog catalog, ModelHealthBoard health)
    {
        var caller = http.Features.GetRequiredFeature<ApiCaller>();
        var models = await catalog.ListAsync(caller, http.RequestAborted);
        var board = await health.GetAsync(http.RequestAborted);
        return Results.Json(new ModelsPage("list", models.Select(m => Describe(m, board)).ToList()));
    }

    public static async Task<IResult> GetAsync(HttpContext http, ApiCatalog catalog, ModelHealthBoard health, string id)
    {
        var caller = http.Features.GetRequiredFeature<ApiCaller>();
        id = Uri.UnescapeDataString(id); // SDKs escape the slash of provider/model (%2F); routing leaves it escaped
        // The same rule as requests: a locked or disallowed model is simply not there for this caller.
        var model = (await catalog.ListAsync(caller, http.RequestAborted)).FirstOrDefault(m => m.Id == id)
                    ?? throw new ApiException(ApiError.ModelNotFound(id));
        return Results.Json(Describe(model, await health.GetAsync(http.RequestAborted)));
    }

    static ModelObject Describe(ApiModel m, HealthBoard health) => new(m.Id, "model", 0, m.ProviderSlug,
        m.Type == Data.ModelType.Chat ? HealthExtension.Of(health.Of(m.Model.Id)) : null);

    // snake_case as OpenAI writes it: the names are the wire names.
    sealed record ModelsPage(string @object, IReadOnlyList<ModelObject> data);
    // aggregator_health: live health (Features/Health), an extension field the OpenAI SDKs ignore; absent for embedding models.
    sealed record ModelObject(string id, string @object, long created, string owned_by,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        HealthExtension? aggregator_health);
}
