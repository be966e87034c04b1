using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Aggregator.MockUpstream;

/// <summary>
/// <c>POST …/embeddings</c> for the OpenAI, OpenRouter and AiHubMix roots. Vectors are deterministic (seeded by a
/// hash of the input) and of unit length, so the same text always gives the same vector, on any run.
/// </summary>
internal static class OpenAIEmbeddings
{
    const int MaxInputs = 2048;

    public static async Task HandleAsync(HttpContext http, MockRoot root, MockUpstreamState state)
    {
        var request = await MockRequest.ReadAsync(http, root, state);
        if (await request.AnsweredByFaultAsync(keyRequired: true)) return;
        if (!request.BodyIsValidJson) { await request.ErrorAsync(MockError.BadJson(root)); return; }
        if (request.Model is not { Length: > 0 } model) { await request.ErrorAsync(MockError.MissingModel); return; }
        var json = request.Json!;
        if (json["input"] is null) { await request.ErrorAsync(MockError.BadParameter("'input' is a required property")); return; }
        if (Inputs(json["input"]) is not { } inputs) { await request.ErrorAsync(Invalid("input")); return; }
        if (ModelLists.Find(state, root, model) is not { } found) { await request.ErrorAsync(MockError.ModelNotFound(model)); return; }
        if (found.Type != MockModelType.Embedding)
        {
            await request.ErrorAsync(MockError.BadParameter("You are not allowed to generate embeddings from this model"));
            return;
        }

        var native = NativeDimensions(found.Id);
        var dimensions = native;
        if (json["dimensions"] is { } requested)
        {
            if (!found.Id.StartsWith("text-embedding-3", StringComparison.Ordinal))
            {
                await request.ErrorAsync(MockError.BadParameter("This model does not support specifying dimensions."));
                return;
            }
            if (OpenAIChat.IntOf(requested) is not ({ } d and >= 1) || d > native)
            {
                await request.ErrorAsync(MockError.BadParameter($"Invalid value for 'dimensions' = {requested.ToJsonString()}. Must be between 1 and {native}."));
                return;
            }
            dimensions = d;
        }
        var format = json["encoding_format"] is null ? "float" : MockJson.StringOf(json["encoding_format"]);
        if (format is not ("float" or "base64")) { await request.ErrorAsync(Invalid("encoding_format")); return; }

        await OpenAIChat.Delay(request.State.Options.FirstTokenDelay, request.Aborted);
        var strings = request.Faults.Has("numbers_as_strings");
        var data = new JsonArray();
        for (var i = 0; i < inputs.Count; i++)
        {
            var vector = Vector(found.Id + "\n" + inputs[i].Text, native, dimensions);
            data.Add(new JsonObject
            {
                ["object"] = "embedding",
                ["index"] = i,
                ["embedding"] = format == "base64"
                    ? Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan()))
                    : new JsonArray([.. vector.Select(x => (JsonNode)JsonValue.Create(x))]),
            });
        }
        var tokens = inputs.Sum(input => input.Tokens);
        await request.JsonAsync(new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            // The hostile gateway echoes the key in a successful reply too (echo_key / echo_key_fragment).
            ["model"] = request.EchoedKey is { } echoed ? $"{model} (for {echoed})" : model,
            ["usage"] = new JsonObject { ["prompt_tokens"] = MockJson.Number(tokens, strings), ["total_tokens"] = MockJson.Number(tokens, strings) },
        });
    }

    /// <summary>
    /// What OpenAI accepts as <c>input</c>: a string, an array of strings, an array of token ids, or an array of such
    /// arrays; never empty. Null for anything else. Token ids count one token each; text, a quarter of its characters.
    /// </summary>
    static List<(string Text, int Tokens)>? Inputs(JsonNode? input)
    {
        if (MockJson.StringOf(input) is { } single) return single.Length == 0 ? null : [(single, TextTokens(single))];
        if (input is not JsonArray { Count: > 0 and <= MaxInputs } items) return null;
        if (items.All(i => i is JsonValue v && v.TryGetValue(out int _))) return [TokenInput(items)!.Value];
        var inputs = new List<(string, int)>();
        foreach (var item in items)
        {
            if (MockJson.StringOf(item) is { Length: > 0 } text) inputs.Add((text, TextTokens(text)));
            else if (item is JsonArray tokens && TokenInput(tokens) is { } ids) inputs.Add(ids);
            else return null;
        }
        return inputs;
    }

    static (string, int)? TokenInput(JsonArray ids) =>
        ids.Count > 0 && ids.All(i => i is JsonValue v && v.TryGetValue(out int _))
            ? ("tokens:" + string.Join(',', ids.Select(i => i!.GetValue<int>())), ids.Count)
            : null;

    static int TextTokens(string text) => Math.Max(1, (int)Math.Ceiling(text.Length / 4.0));

    static MockError Invalid(string field) => new(400,
        $"'$.{field}' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
        "invalid_request_error", null, null, "invalid_request_error");

    static int NativeDimensions(string id) =>
        id.StartsWith("text-embedding-3-large", StringComparison.Ordinal) || id.StartsWith("gemini-embedding", StringComparison.Ordinal) ? 3072
        : id.StartsWith("mistral-embed", StringComparison.Ordinal) || id.StartsWith("text-embedding-v3", StringComparison.Ordinal) ? 1024
        : 1536;

    /// <summary>
    /// The model's native vector for this text, shortened to <paramref name="dimensions"/> and renormalised,
    /// which is how text-embedding-3 models answer <c>dimensions</c> (a shorter vector is a prefix, rescaled).
    /// </summary>
    static float[] Vector(string seedText, int native, int dimensions)
    {
        var seed = BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(seedText)));
        var random = new Random(seed);
        var full = new double[native];
        for (var i = 0; i < native; i++) full[i] = random.NextDouble() * 2 - 1;
        var norm = Math.Sqrt(full.Take(dimensions).Sum(x => x * x));
        return [.. full.Take(dimensions).Select(x => (float)(x / norm))];
    }
}
