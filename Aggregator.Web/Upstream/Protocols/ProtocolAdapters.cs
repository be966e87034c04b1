using Aggregator.Web.Data;
using Microsoft.Extensions.Options;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Upstream.Protocols;

/// <summary>The adapter for each API standard.</summary>
public sealed class ProtocolAdapters(IOptions<RouterOptions> options)
{
    public ProtocolAdapter OpenAI { get; } = OpenAIAdapter.Instance;
    public ProtocolAdapter Anthropic { get; } = new AnthropicAdapter(options.Value.DefaultAnthropicMaxTokens, options.Value.AnthropicVersion);

    public ProtocolAdapter For(ApiStandard standard) => standard == ApiStandard.Anthropic ? Anthropic : OpenAI;
}
