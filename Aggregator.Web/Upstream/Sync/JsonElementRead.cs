using System.Globalization;
using System.Text.Json;

namespace Aggregator.Web.Upstream.Sync;

/// <summary>Lenient readers for provider JSON: numbers may arrive as strings, fields may be missing or null.</summary>
internal static class JsonElementRead
{
    public static JsonElement? Prop(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind is not JsonValueKind.Null and not JsonValueKind.Undefined
            ? v : null;

    public static string? Str(this JsonElement e, string name) => e.Prop(name) switch
    {
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        { ValueKind: JsonValueKind.Number } v => v.GetRawText(),
        _ => null,
    };

    public static decimal? Dec(this JsonElement e, string name) => e.Prop(name) switch
    {
        { ValueKind: JsonValueKind.Number } v when v.TryGetDecimal(out var d) => d,
        { ValueKind: JsonValueKind.String } v when decimal.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };

    public static int? Int(this JsonElement e, string name) => e.Dec(name) switch
    {
        decimal d when d > 0 && d <= int.MaxValue => (int)d,
        _ => null,
    };

    public static bool? Bool(this JsonElement e, string name) => e.Prop(name) switch
    {
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        { ValueKind: JsonValueKind.String } v when bool.TryParse(v.GetString(), out var b) => b,
        _ => null,
    };

    /// <summary>A JSON array of strings, or a comma-separated string (AiHubMix), lower-cased; null when absent.</summary>
    public static HashSet<string>? Set(this JsonElement e, string name) => e.Prop(name) switch
    {
        { ValueKind: JsonValueKind.Array } v => v.EnumerateArray()
            .Where(x => x.ValueKind == JsonValueKind.String)
            .Select(x => x.GetString()!.Trim().ToLowerInvariant())
            .Where(s => s.Length > 0).ToHashSet(),
        { ValueKind: JsonValueKind.String } v => v.GetString()!
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => s.ToLowerInvariant()).ToHashSet(),
        _ => null,
    };
}
