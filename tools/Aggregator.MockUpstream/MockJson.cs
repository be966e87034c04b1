using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aggregator.MockUpstream;

/// <summary>JSON the way the providers write it: compact, raw UTF-8 (no \u escapes), so byte-level quirks bite.</summary>
internal static class MockJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    public static string Write(JsonNode node) => node.ToJsonString(Options);

    /// <summary>The node's text when it is a JSON string; null for anything else (never throws on a wrong type).</summary>
    public static string? StringOf(JsonNode? node) => node is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    /// <summary>A number, or its text when the <c>numbers_as_strings</c> quirk is on.</summary>
    public static JsonNode Number(long value, bool asString) =>
        asString ? JsonValue.Create(value.ToString(CultureInfo.InvariantCulture)) : JsonValue.Create(value);
}

/// <summary>A JSON writer that writes numbers as strings when the <c>numbers_as_strings</c> quirk is on.</summary>
internal readonly record struct QuirkyJsonWriter(Utf8JsonWriter W, bool NumbersAsStrings)
{
    public void Number(string name, long value)
    {
        if (NumbersAsStrings) W.WriteString(name, value.ToString(CultureInfo.InvariantCulture));
        else W.WriteNumber(name, value);
    }

    public void Number(string name, decimal value)
    {
        if (NumbersAsStrings) W.WriteString(name, value.ToString(CultureInfo.InvariantCulture));
        else W.WriteNumber(name, value);
    }

    public void Strings(string name, IEnumerable<string> values)
    {
        W.WriteStartArray(name);
        foreach (var v in values) W.WriteStringValue(v);
        W.WriteEndArray();
    }
}
