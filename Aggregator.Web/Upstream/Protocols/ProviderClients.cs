using Aggregator.Web.Data;
using Aggregator.Web.Upstream.Routing;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Upstream.Protocols;

/// <summary>The <see cref="ProviderClient"/> of each API standard.</summary>
public sealed class ProviderClients(IOptions<RouterOptions> options)
{
    public ProviderClient OpenAI { get; } = new(ApiStandard.OpenAI, OpenAIAdapter.Instance, options.Value.AnthropicVersion);
    public ProviderClient Anthropic { get; } = new(ApiStandard.Anthropic, new AnthropicAdapter(options.Value.DefaultAnthropicMaxTokens), options.Value.AnthropicVersion);

    public ProviderClient For(ApiStandard standard) => standard == ApiStandard.Anthropic ? Anthropic : OpenAI;
}
