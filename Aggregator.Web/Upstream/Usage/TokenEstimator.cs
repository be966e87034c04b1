using Microsoft.ML.Tokenizers;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>
/// Token counts for replies whose provider reported no usage: OpenAI's own encodings where the model
/// family is known (o200k_base for gpt-4o, gpt-4.1, gpt-5 and the o-series; cl100k_base for gpt-4 and
/// gpt-3.5), otherwise about four characters a token. Either way the row is marked estimated.
/// Each encoding is loaded once, on first use (a few MB, a fraction of a second), and shared: the
/// tokenizers are thread-safe, and counting does not build token arrays.
/// </summary>
public static class TokenEstimator
{
    static readonly Lazy<Tokenizer> O200k = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));
    static readonly Lazy<Tokenizer> Cl100k = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));

    static readonly string[] O200kFamilies = ["gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "gpt-oss", "o1", "o3", "o4"];
    static readonly string[] Cl100kFamilies = ["gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada-002"];

    /// <summary>The tokenizer of the model's family, or null when it is not known. <paramref name="modelId"/> may carry a vendor prefix ("openai/gpt-4o").</summary>
    public static Tokenizer? For(string modelId) => Lazily(modelId)?.Value;

    /// <summary>
    /// The same, not loaded yet: a stream decides at its start whether to keep its pieces, and the
    /// encoding is loaded only when an estimate is really needed (the first one pays the load, not the first request).
    /// </summary>
    internal static Lazy<Tokenizer>? Lazily(string modelId)
    {
        var id = modelId.AsSpan(modelId.LastIndexOf('/') + 1);
        if (IsFamily(id, O200kFamilies)) return O200k;
        if (IsFamily(id, Cl100kFamilies)) return Cl100k;
        return null;
    }

    /// <summary>The encoding's name for a model id, or null (for diagnostics and tests).</summary>
    public static string? EncodingOf(string modelId) => For(modelId) switch
    {
        null => null,
        var t when ReferenceEquals(t, O200k.Value) => "o200k_base",
        _ => "cl100k_base",
    };

    /// <summary>Tokens in <paramref name="text"/>: counted by <paramref name="tokenizer"/>, or about four characters a token without one.</summary>
    public static int Count(Tokenizer? tokenizer, string? text) =>
        string.IsNullOrEmpty(text) ? 0 : tokenizer?.CountTokens(text) ?? FromChars(text.Length);

    public static int FromChars(int chars) => (chars + 3) / 4;

    // A family is a prefix that ends the id or is followed by a separator: "o1", "o1-mini", "gpt-4-turbo"; not "o10", "gpt-4o" for gpt-4.
    static bool IsFamily(ReadOnlySpan<char> id, string[] families)
    {
        foreach (var family in families)
            if (id.StartsWith(family, StringComparison.OrdinalIgnoreCase) && (id.Length == family.Length || !char.IsLetterOrDigit(id[family.Length])))
                return true;
        return false;
    }
}
