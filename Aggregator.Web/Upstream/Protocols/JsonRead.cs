using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;

namespace Aggregator.Web.Upstream.Protocols;

/// <summary>Lenient readers for provider JSON: numbers may come as strings, anything may be null.</summary>
internal static class JsonRead
{
    public static int Int(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                if (reader.TryGetInt32(out var i)) return i;
                return reader.TryGetDouble(out var d) ? (int)Math.Clamp(d, int.MinValue, int.MaxValue) : 0;
            case JsonTokenType.String:
                var span = reader.ValueSpan;
                if (!reader.ValueIsEscaped && Utf8Parser.TryParse(span, out int parsed, out var used) && used == span.Length) return parsed;
                return double.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ds)
                    ? (int)Math.Clamp(ds, int.MinValue, int.MaxValue) : 0;
            default:
                reader.Skip();
                return 0;
        }
    }

    /// <summary>A string, the raw text of a number, or null.</summary>
    public static string? String(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String: return reader.GetString();
            case JsonTokenType.Number: return System.Text.Encoding.UTF8.GetString(reader.ValueSpan);
            case JsonTokenType.True: return "true";
            case JsonTokenType.False: return "false";
            default:
                reader.Skip();
                return null;
        }
    }

    /// <summary>Positions on the first token; false when there is nothing but whitespace.</summary>
    public static bool Start(ref Utf8JsonReader reader)
    {
        try { return reader.Read(); }
        catch (JsonException ex) { throw UpstreamFailure.Protocol("not JSON", ex); }
    }
}

/// <summary>The fields every provider's error body shares in some form.</summary>
public sealed record UpstreamErrorBody(string? Type, string? Code, string? Message)
{
    public static readonly UpstreamErrorBody None = new(null, null, null);

    /// <summary>
    /// Reads OpenAI <c>{"error":{message,type,code}}</c>, Anthropic <c>{"type":"error","error":{type,message}}</c>,
    /// OpenRouter (numeric code) and SiliconFlow <c>{"code":..,"message":..}</c>; anything else gives <see cref="None"/>.
    /// </summary>
    public static UpstreamErrorBody Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return None;
            return ReadObject(ref reader) ?? None;
        }
        catch (JsonException)
        {
            return None;
        }
    }

    /// <summary>Reads the object the reader is on; returns its error, if it carries one.</summary>
    internal static UpstreamErrorBody? ReadObject(ref Utf8JsonReader reader)
    {
        string? type = null, code = null, message = null;
        UpstreamErrorBody? nested = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject) nested = ReadFields(ref reader);
                else if (reader.TokenType == JsonTokenType.String) nested = new(null, null, reader.GetString());
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("type"u8)) { reader.Read(); type = JsonRead.String(ref reader); }
            else if (reader.ValueTextEquals("code"u8)) { reader.Read(); code = JsonRead.String(ref reader); }
            else if (reader.ValueTextEquals("message"u8)) { reader.Read(); message = reader.TokenType == JsonTokenType.String ? reader.GetString() : Skip(ref reader); }
            else { reader.Read(); reader.Skip(); }
        }
        if (nested is not null) return nested with { Code = nested.Code ?? code };
        // SiliconFlow: a numeric code and a message at the top level.
        return code is not null && message is not null && type is not "message" ? new(type, code, message) : null;
    }

    internal static UpstreamErrorBody ReadFields(ref Utf8JsonReader reader)
    {
        string? type = null, code = null, message = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8)) { reader.Read(); type = JsonRead.String(ref reader); }
            else if (reader.ValueTextEquals("code"u8)) { reader.Read(); code = JsonRead.String(ref reader); }
            else if (reader.ValueTextEquals("message"u8)) { reader.Read(); message = reader.TokenType == JsonTokenType.String ? reader.GetString() : Skip(ref reader); }
            else { reader.Read(); reader.Skip(); }
        }
        return new(type, code, message);
    }

    static string? Skip(ref Utf8JsonReader reader) { reader.Skip(); return null; }
}
