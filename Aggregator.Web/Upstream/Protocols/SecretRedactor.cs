namespace Aggregator.Web.Upstream.Protocols;

/// <summary>
/// Removes one API key, and anything recognisable as a piece of it, from text a provider sent back:
/// gateways echo the key they received ("Incorrect API key provided: sk-…"), whole, masked
/// (<c>sk-ab…wxyz</c>), URL-encoded or cut. <see cref="ProviderClient"/> applies it to every error text
/// before that text becomes an <see cref="UpstreamFailure"/>, so nothing downstream holds the raw text.
/// </summary>
public sealed class SecretRedactor
{
    public const string Placeholder = "[redacted key]";

    /// <summary>The shortest run of the key's characters that counts as a leak on its own.</summary>
    const int MinFragment = 8;
    /// <summary>The key's tail that, glued to anything (a prefix, a mask), marks the whole word.</summary>
    const int TailLength = 4;

    readonly string _secret;
    readonly byte[] _secretUtf8;
    readonly string? _escaped;
    readonly string? _tail;

    public SecretRedactor(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        _secret = secret;
        _secretUtf8 = System.Text.Encoding.UTF8.GetBytes(secret);
        var escaped = Uri.EscapeDataString(secret);
        _escaped = escaped != secret ? escaped : null;
        _tail = secret.Length >= TailLength * 2 ? secret[^TailLength..] : null;
    }

    public string Redact(string text)
    {
        if (string.IsNullOrEmpty(text)) return text;
        if (_escaped is not null) text = text.Replace(_escaped, Placeholder, StringComparison.OrdinalIgnoreCase);
        var marks = new bool[text.Length];
        var any = MarkFragments(text, marks) | MarkMaskedWords(text, marks);
        return any ? Rebuild(text, marks) : text;
    }

    /// <summary>
    /// Whether the whole key (or its URL-encoded form) is in the text: the test for data that is not an
    /// error message (a model list entry), where a short run of common characters is no evidence of a leak.
    /// </summary>
    public bool ContainsKey(string text) =>
        text.Contains(_secret, StringComparison.OrdinalIgnoreCase)
        || _escaped is not null && text.Contains(_escaped, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether a reply's raw bytes carry the whole key: for bodies relayed as they came (embeddings).</summary>
    public bool ContainsKey(ReadOnlySpan<byte> utf8) => utf8.IndexOf(_secretUtf8) >= 0;

    public string? RedactOrNull(string? text) => text is null ? null : Redact(text);

    public UpstreamErrorBody Redact(UpstreamErrorBody body) =>
        body.Type is null && body.Code is null && body.Message is null
            ? body
            : new(RedactOrNull(body.Type), RedactOrNull(body.Code), RedactOrNull(body.Message));

    /// <summary>Every run of at least <see cref="MinFragment"/> characters that also occurs in the key (longest common substrings).</summary>
    bool MarkFragments(string text, bool[] marks)
    {
        var min = Math.Min(MinFragment, _secret.Length);
        var run = new int[_secret.Length + 1];
        var any = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = char.ToLowerInvariant(text[i]);
            // Right to left, so run[j] still holds the previous row's value when run[j + 1] reads it.
            for (var j = _secret.Length - 1; j >= 0; j--)
            {
                run[j + 1] = char.ToLowerInvariant(_secret[j]) == c ? run[j] + 1 : 0;
                if (run[j + 1] >= min)
                {
                    Array.Fill(marks, true, i - run[j + 1] + 1, run[j + 1]);
                    any = true;
                }
            }
            run[0] = 0;
        }
        return any;
    }

    /// <summary>A word that carries the key's last characters after something else (<c>sk-ab…wxyz</c>, <c>***wxyz</c>).</summary>
    bool MarkMaskedWords(string text, bool[] marks)
    {
        if (_tail is null) return false;
        var any = false;
        var at = 0;
        while ((at = text.IndexOf(_tail, at, StringComparison.OrdinalIgnoreCase)) >= 0)
        {
            int start = at, end = at + _tail.Length;
            while (start > 0 && IsWordChar(text[start - 1])) start--;
            while (end < text.Length && IsWordChar(text[end])) end++;
            if (start < at)
            {
                Array.Fill(marks, true, start, end - start);
                any = true;
            }
            at += _tail.Length;
        }
        return any;
    }

    static bool IsWordChar(char c) => !char.IsWhiteSpace(c) && c is not ('"' or '\'' or '`' or '(' or ')' or '[' or ']' or '{' or '}' or '<' or '>' or ',' or ';');

    static string Rebuild(string text, bool[] marks)
    {
        var sb = new System.Text.StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (!marks[i]) { sb.Append(text[i]); continue; }
            sb.Append(Placeholder);
            while (i + 1 < text.Length && marks[i + 1]) i++;
        }
        return sb.ToString();
    }
}
