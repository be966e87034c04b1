using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aggregator.Web.Data;

namespace Aggregator.Web.Upstream.Sync;

/// <summary>One field a sync changed on a model, as text (null: the provider said nothing).</summary>
public sealed record FieldChange(
    [property: JsonPropertyName("field")] string Field,
    [property: JsonPropertyName("before")] string? Before,
    [property: JsonPropertyName("after")] string? After);

/// <summary>
/// What a sync changes on a stored model: every field the sync writes, compared with what the provider lists now.
/// Admin-owned fields (rename, tier, hidden) are never the sync's, so they are never here.
/// </summary>
public static class ModelDiff
{
    /// <summary>Longest text kept per side (a description can be long; the row's JSON is capped).</summary>
    const int MaxValueLength = 4_000;

    static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IReadOnlyList<FieldChange> Between(AiModel stored, UpstreamModel listed)
    {
        var changes = new List<FieldChange>();
        void Compare(string field, string? before, string? after)
        {
            if (!string.Equals(before, after, StringComparison.Ordinal)) changes.Add(new FieldChange(field, Cap(before), Cap(after)));
        }
        Compare("name", stored.DisplayName, listed.DisplayName);
        Compare("description", stored.Description, listed.Description);
        Compare("type", Text(stored.Type), Text(listed.Type));
        Compare("type inferred", Text(stored.TypeInferred), Text(listed.TypeInferred));
        Compare("capabilities", Text(stored.Capabilities), Text(listed.Capabilities));
        Compare("inferred capabilities", Text(stored.InferredCapabilities), Text(listed.InferredCapabilities));
        Compare("context window", Text(stored.ContextWindow), Text(listed.ContextWindow));
        Compare("max output tokens", Text(stored.MaxOutputTokens), Text(listed.MaxOutputTokens));
        Compare("input price per 1M tokens", Price(stored.InputPricePerMTok), Price(listed.InputPricePerMTok));
        Compare("output price per 1M tokens", Price(stored.OutputPricePerMTok), Price(listed.OutputPricePerMTok));
        return changes;
    }

    public static string ToJson(IReadOnlyList<FieldChange> changes) => JsonSerializer.Serialize(changes, Json);

    /// <summary>The changes stored on a <see cref="ModelChange"/>; empty when there are none or the text is not ours.</summary>
    public static IReadOnlyList<FieldChange> FromJson(string? json)
    {
        if (string.IsNullOrEmpty(json)) return [];
        try { return JsonSerializer.Deserialize<List<FieldChange>>(json, Json) ?? []; }
        catch (JsonException) { return []; }
    }

    static string Text(ModelType type) => type.ToString().ToLowerInvariant();
    static string Text(bool value) => value ? "yes" : "no";
    static string? Text(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    static string Text(ModelCapabilities caps) => caps == ModelCapabilities.None
        ? "none"
        : string.Join(", ", Enum.GetValues<ModelCapabilities>().Where(c => c != ModelCapabilities.None && caps.HasFlag(c)).Select(c => c.ToString().ToLowerInvariant()));

    // Normalised, so 2.50 (as stored) and 2.5 (as listed) are one price, not a change.
    static string? Price(decimal? value) => value?.ToString("0.############################", CultureInfo.InvariantCulture);

    static string? Cap(string? value) => value is { Length: > MaxValueLength } ? value[..MaxValueLength] + "…" : value;
}
