using System.Text;

namespace Aggregator.Web.Infrastructure;

/// <summary>
/// The one cleaning rule for text that arrives from outside and is shown as a name (model ids and names
/// from a provider's list, conversation titles): invisible characters that can disguise what a reader
/// sees are removed, so "gpt-4o" cannot hide a right-to-left override or a zero-width space.
/// </summary>
public static class DisplayText
{
    /// <summary>
    /// Removes direction marks and overrides (U+200E/F, U+061C, U+202A–U+202E, U+2066–U+2069), zero-width
    /// characters (U+200B–U+200D, U+2060–U+2064, U+FEFF) and control characters; a tab or line break
    /// becomes a space so words stay apart. Everything else (accents, CJK, emoji) is kept as given.
    /// </summary>
    public static string Clean(string text)
    {
        var i = 0;
        while (i < text.Length && !IsRemoved(text[i])) i++;
        if (i == text.Length) return text; // the common case: nothing to strip, no allocation

        var clean = new StringBuilder(text.Length).Append(text, 0, i);
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (!IsRemoved(c)) clean.Append(c);
            else if (c is '\t' or '\n' or '\r' or '\v' or '\f' or '\u0085') clean.Append(' ');
        }
        return clean.ToString();
    }

    /// <inheritdoc cref="Clean(string)"/>
    public static string? CleanOrNull(string? text) => text is null ? null : Clean(text);

    static bool IsRemoved(char c) => char.IsControl(c) || c switch
    {
        '\u061C' or '\u200E' or '\u200F' => true,   // direction marks
        >= '\u202A' and <= '\u202E' => true,         // embeddings and overrides
        >= '\u2066' and <= '\u2069' => true,         // isolates
        >= '\u200B' and <= '\u200D' => true,         // zero-width space, non-joiner, joiner
        >= '\u2060' and <= '\u2064' => true,         // word joiner, invisible operators
        '\uFEFF' => true,                            // zero-width no-break space (BOM)
        _ => false,
    };
}
