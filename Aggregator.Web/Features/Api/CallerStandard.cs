using Aggregator.Web.Data;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// Endpoint metadata naming the protocol an endpoint's callers speak, so everything that answers them
/// (the endpoint, the token challenge, the API's error filter) uses that protocol's shapes.
/// An endpoint without it speaks OpenAI's.
/// </summary>
public sealed record CallerStandard(ApiStandard Standard)
{
    public static readonly CallerStandard Anthropic = new(ApiStandard.Anthropic);

    public static ApiStandard Of(HttpContext http) =>
        http.GetEndpoint()?.Metadata.GetMetadata<CallerStandard>()?.Standard ?? ApiStandard.OpenAI;
}
