using System.Buffers;
using System.Text.Json;

namespace Aggregator.Web.Upstream.Sync;

/// <summary>The top level of a model list: whether it had a "data" array, and its other (small) properties.</summary>
internal sealed class ListRoot
{
    public bool HasData { get; set; }
    public Dictionary<string, JsonElement> Properties { get; } = new(StringComparer.Ordinal);

    public JsonElement? Prop(string name) =>
        Properties.TryGetValue(name, out var v) && v.ValueKind is not JsonValueKind.Null ? v : null;

    public string? Str(string name) => Prop(name) switch
    {
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        { ValueKind: JsonValueKind.Number } v => v.GetRawText(),
        _ => null,
    };
}

/// <summary>
/// Streams <c>{"data": [...], ...}</c> or a bare <c>[...]</c> with <see cref="Utf8JsonReader"/>, handing each
/// entry to the page as soon as its bytes are in: the whole list is never held as one document.
/// </summary>
internal static class ModelListReader
{
    const int InitialBuffer = 64 * 1024;

    public static async Task<ListRoot> ReadAsync(Stream body, ModelListParser.PageBuilder page, CancellationToken ct)
    {
        var walk = new Walk(page);
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
        var length = 0;
        try
        {
            while (!walk.Done)
            {
                if (length == buffer.Length) // one entry larger than the buffer: grow (the body's byte cap bounds this)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await body.ReadAsync(buffer.AsMemory(length), ct);
                length += read;
                var consumed = walk.Step(buffer.AsSpan(0, length), isFinalBlock: read == 0);
                if (read == 0 && !walk.Done) throw new JsonException("The JSON ends before the list does.");
                buffer.AsSpan(consumed, length - consumed).CopyTo(buffer);
                length -= consumed;
            }
            return walk.Root;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Where the reader is in the list between two buffers; each step goes as far as complete tokens allow.</summary>
    sealed class Walk(ModelListParser.PageBuilder page)
    {
        enum Phase { Start, RootObject, Entries, Done }

        Phase _phase;
        bool _rootIsArray;
        JsonReaderState _state;

        public ListRoot Root { get; } = new();
        public bool Done => _phase == Phase.Done;

        /// <returns>How many bytes were consumed; the rest is kept for the next step.</returns>
        public int Step(ReadOnlySpan<byte> data, bool isFinalBlock)
        {
            var reader = new Utf8JsonReader(data, isFinalBlock, _state);
            while (_phase != Phase.Done)
            {
                var mark = reader;
                if (!Advance(ref reader))
                {
                    reader = mark; // incomplete token or value: wait for more bytes
                    break;
                }
            }
            _state = reader.CurrentState;
            return (int)reader.BytesConsumed;
        }

        bool Advance(ref Utf8JsonReader reader)
        {
            if (!reader.Read()) return false;
            switch (_phase)
            {
                case Phase.Start when reader.TokenType == JsonTokenType.StartArray:
                    _rootIsArray = Root.HasData = true;
                    _phase = Phase.Entries;
                    return true;
                case Phase.Start when reader.TokenType == JsonTokenType.StartObject:
                    _phase = Phase.RootObject;
                    return true;
                case Phase.Start:
                    _phase = Phase.Done; // a bare string or number: no list at all
                    return true;

                case Phase.RootObject when reader.TokenType == JsonTokenType.EndObject:
                    _phase = Phase.Done;
                    return true;
                case Phase.RootObject:
                    var name = reader.GetString()!;
                    if (!reader.Read()) return false;
                    if (name == "data" && reader.TokenType == JsonTokenType.StartArray)
                    {
                        Root.HasData = true;
                        _phase = Phase.Entries;
                        return true;
                    }
                    if (!IsComplete(reader)) return false;
                    Root.Properties[name] = JsonElement.ParseValue(ref reader);
                    return true;

                case Phase.Entries when reader.TokenType == JsonTokenType.EndArray:
                    _phase = _rootIsArray ? Phase.Done : Phase.RootObject;
                    return true;
                case Phase.Entries:
                    if (!IsComplete(reader)) return false;
                    if (page.WantsEntries) page.Add(JsonElement.ParseValue(ref reader));
                    else
                    {
                        reader.TrySkip(); // complete (checked above): counted for the message, never parsed
                        page.Count();
                    }
                    return true;
            }
            return false;
        }

        // A value can be parsed only when all of it is in the buffer.
        static bool IsComplete(Utf8JsonReader probe) =>
            probe.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray) || probe.TrySkip();
    }
}
