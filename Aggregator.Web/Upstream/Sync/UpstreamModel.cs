using System.Security.Cryptography;
using System.Text;
using Aggregator.Web.Data;

namespace Aggregator.Web.Upstream.Sync;

/// <summary>One model as the provider describes it, normalised; what the sync compares and stores.</summary>
public sealed record UpstreamModel(
    string ModelId,
    string? UpstreamName,
    string? Description,
    ModelType Type,
    bool TypeInferred,
    ModelCapabilities Capabilities,
    ModelCapabilities InferredCapabilities,
    int? ContextWindow,
    int? MaxOutputTokens,
    decimal? InputPricePerMTok,
    decimal? OutputPricePerMTok)
{
    /// <summary>Hash of everything the provider told us; equal hash means the stored row is left alone.</summary>
    public string ContentHash()
    {
        var text = string.Join('\u001f', ModelId, UpstreamName, Description, (int)Type, TypeInferred, (int)Capabilities,
            (int)InferredCapabilities, ContextWindow, MaxOutputTokens,
            InputPricePerMTok?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            OutputPricePerMTok?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return Convert.ToHexStringLower(hash[..16]);
    }

    public string DisplayName => string.IsNullOrWhiteSpace(UpstreamName) ? ModelId : UpstreamName!;
}
