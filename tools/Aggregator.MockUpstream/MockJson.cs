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

    /// <summary>A number, or its text when the <c>numbers_as_strings</c> quirk is on.</summary>
    public static JsonNode Number(long value, bool asString) =>
        asString ? JsonValue.Create(value.ToString(System.Globalization.CultureInfo.InvariantCulture)) : JsonValue.Create(value);

    public static JsonNode Number(decimal value, bool asString) =>
        asString ? JsonValue.Create(value.ToString(System.Globalization.CultureInfo.InvariantCulture)) : JsonValue.Create(value);
}
