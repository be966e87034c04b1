using System.Net.Http.Headers;
using Aggregator.Web.Data;

namespace Aggregator.Web.Upstream.Protocols;

/// <summary>How each API standard authenticates; the only place a decrypted secret touches a request.</summary>
public static class ProviderAuth
{
    public const string AnthropicVersion = "2023-06-01";

    public static void Apply(HttpRequestMessage request, ApiStandard standard, string secret)
    {
        if (standard == ApiStandard.Anthropic)
        {
            request.Headers.TryAddWithoutValidation("x-api-key", secret);
            request.Headers.TryAddWithoutValidation("anthropic-version", AnthropicVersion);
        }
        else
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        }
    }
}
