using System.Text.Json.Nodes;
using Aggregator.Web.Data;
using Aggregator.Web.Security;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Demo;

/// <summary>
/// The demo upstream needs no user login but answers only to an active key of the demo provider,
/// so the app's mock cannot be used with arbitrary keys from outside.
/// </summary>
internal sealed class DemoKeyFilter(AppDbContext db, SecretBox secrets) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        var presented = request.Headers["x-api-key"].ToString();
        var auth = request.Headers.Authorization.ToString();
        if (presented.Length == 0 && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) presented = auth[7..].Trim();

        if (presented.Length > 0)
        {
            var fingerprint = secrets.Fingerprint(presented);
            var known = await db.ApiKeys.AnyAsync(k =>
                k.Provider!.Name == DemoExtensions.ProviderName && k.Provider.IsDemo
                && k.Active && k.DeletedAt == null && k.SecretFingerprint == fingerprint,
                context.HttpContext.RequestAborted);
            if (known) return await next(context);
        }
        var body = new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["message"] = "The demo upstream accepts only the demo provider's key.",
                ["type"] = "invalid_request_error",
                ["param"] = null,
                ["code"] = "invalid_api_key",
            },
        };
        return Results.Text(body.ToJsonString(), "application/json", statusCode: StatusCodes.Status401Unauthorized);
    }
}
