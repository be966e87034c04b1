using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Aggregator.MockUpstream;

/// <summary>
/// The call a mock model makes: always the chosen tool, with arguments built from its JSON schema,
/// so tests know the arguments in advance. <see cref="Fragments"/> are the pieces a stream sends.
/// </summary>
internal sealed record MockToolCall(string Id, string Name, JsonObject Input, string Arguments, IReadOnlyList<string> Fragments);

/// <summary>
/// Decides whether a chat request is answered with a tool call, in either protocol. A request carrying tools
/// gets a call of the first tool (or the one <c>tool_choice</c> names), unless <c>tool_choice</c> says none,
/// the conversation ends with a tool result, or the text switch is on (<c>mock:no_tools</c> in the last user
/// message, or the fault <c>text_despite_tools</c>).
/// </summary>
internal static partial class MockTools
{
    public const string TextSwitchFault = "text_despite_tools";
    const int FragmentLength = 6;

    public static MockToolCall? For(MockRequest request)
    {
        if (request.Json is not { } json || request.ToolResultText is not null) return null;
        if (request.Faults.Has(TextSwitchFault) || request.LastUserText is { } user && NoTools().IsMatch(user)) return null;
        if (json["tools"] is not JsonArray { Count: > 0 } tools) return null;
        var anthropic = request.Root == MockRoot.Anthropic;
        var (choice, chosenName) = Choice(json["tool_choice"], anthropic);
        if (choice == "none") return null;

        var declared = tools.OfType<JsonObject>()
            .Select(t => anthropic ? (Name: MockJson.StringOf(t["name"]), Schema: t["input_schema"]) : (Name: MockJson.StringOf(t["function"]?["name"]), Schema: t["function"]?["parameters"]))
            .Where(t => !string.IsNullOrEmpty(t.Name))
            .ToList();
        if (declared.Count == 0) return null;
        var tool = declared.FirstOrDefault(t => t.Name == chosenName) is { Name: not null } named ? named : declared[0];

        var input = ValueFor(tool.Schema, 0) as JsonObject ?? [];
        var arguments = MockJson.Write(input);
        var id = (anthropic ? "toolu_" : "call_") + Guid.NewGuid().ToString("N")[..24];
        return new MockToolCall(id, tool.Name!, input, arguments, Split(arguments));
    }

    /// <summary>The text of the tool result the conversation ends with, or null when it ends otherwise.</summary>
    public static string? ResultText(JsonObject json, MockRoot root)
    {
        if (json["messages"] is not JsonArray { Count: > 0 } messages || messages[^1] is not JsonObject last) return null;
        var role = MockJson.StringOf(last["role"]);
        if (root != MockRoot.Anthropic)
            return role == "tool" ? MockRequest.TextOf(last["content"]) : null;
        if (role != "user" || last["content"] is not JsonArray blocks) return null;
        var results = blocks.OfType<JsonObject>().Where(b => MockJson.StringOf(b["type"]) == "tool_result").ToList();
        return results.Count == 0 ? null : string.Join(' ', results.Select(r => MockRequest.TextOf(r["content"])));
    }

    /// <summary>("none" | "auto" | …, the tool named by the choice) in either protocol's spelling.</summary>
    static (string? Choice, string? Name) Choice(JsonNode? toolChoice, bool anthropic) => toolChoice switch
    {
        JsonValue v when v.TryGetValue(out string? s) => (s, null),
        JsonObject o when anthropic => (MockJson.StringOf(o["type"]), MockJson.StringOf(o["name"])),
        JsonObject o => (MockJson.StringOf(o["type"]), MockJson.StringOf(o["function"]?["name"])),
        _ => (null, null),
    };

    /// <summary>A value that satisfies the schema: enum's first, "mock" for strings, 1 for numbers, true for booleans.</summary>
    static JsonNode? ValueFor(JsonNode? schema, int depth)
    {
        if (schema is not JsonObject s) return depth == 0 ? new JsonObject() : JsonValue.Create("mock");
        if (s["const"] is { } constant) return constant.DeepClone();
        if (s["enum"] is JsonArray { Count: > 0 } values) return values[0]?.DeepClone();
        var type = s["type"] switch
        {
            JsonValue v when v.TryGetValue(out string? t) => t,
            JsonArray types => types.Select(MockJson.StringOf).FirstOrDefault(t => t != "null"),
            _ => s["properties"] is JsonObject ? "object" : null,
        };
        switch (type)
        {
            case "object":
                var obj = new JsonObject();
                if (depth < 6 && s["properties"] is JsonObject properties)
                    foreach (var (name, property) in properties) obj[name] = ValueFor(property, depth + 1);
                return obj;
            case "array":
                return depth < 6 ? new JsonArray(ValueFor(s["items"], depth + 1)) : [];
            case "integer" or "number": return JsonValue.Create(1);
            case "boolean": return JsonValue.Create(true);
            case "null": return null;
            default: return JsonValue.Create("mock");
        }
    }

    /// <summary>Argument text in short pieces (never between the halves of a surrogate pair), as models stream it.</summary>
    static List<string> Split(string arguments)
    {
        var fragments = new List<string>();
        for (var at = 0; at < arguments.Length;)
        {
            var length = Math.Min(FragmentLength, arguments.Length - at);
            if (at + length < arguments.Length && char.IsHighSurrogate(arguments[at + length - 1])) length++;
            fragments.Add(arguments.Substring(at, length));
            at += length;
        }
        return fragments;
    }

    [GeneratedRegex(@"mock:no_tools\b", RegexOptions.IgnoreCase)]
    private static partial Regex NoTools();
}
