namespace Aggregator.Web.Features.Api;

/// <summary>
/// A token's model allow-list: exact ids (<c>mock/gpt-4o-mini</c>, or a bare <c>gpt-4o-mini</c> for that
/// model on any provider) and <c>*</c> patterns (<c>openai/*</c>, <c>*mini*</c>). Empty allows every model.
/// </summary>
public sealed class ModelAllowList
{
    public static readonly ModelAllowList Everything = new([]);

    readonly string[] _entries;

    ModelAllowList(string[] entries) => _entries = entries;

    public bool AllowsEverything => _entries.Length == 0;

    /// <summary>Entries separated by commas, spaces or new lines; null or blank allows everything.</summary>
    public static ModelAllowList Parse(string? text) =>
        string.IsNullOrWhiteSpace(text)
            ? Everything
            : new(text.Split([',', ' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Distinct(StringComparer.OrdinalIgnoreCase).ToArray());

    /// <summary>The stored form: one comma-separated line, or null for "everything".</summary>
    public string? Stored => _entries.Length == 0 ? null : string.Join(",", _entries);

    /// <param name="qualifiedId">provider-slug/model-id</param>
    /// <param name="modelId">the model id alone</param>
    public bool Allows(string qualifiedId, string modelId)
    {
        if (_entries.Length == 0) return true;
        foreach (var entry in _entries)
            if (Matches(entry, qualifiedId) || (!entry.Contains('/') && Matches(entry, modelId)))
                return true;
        return false;
    }

    static bool Matches(string pattern, string value)
    {
        if (!pattern.Contains('*')) return string.Equals(pattern, value, StringComparison.OrdinalIgnoreCase);
        var parts = pattern.Split('*');
        var at = 0;
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (i == 0)
            {
                if (!value.StartsWith(part, StringComparison.OrdinalIgnoreCase)) return false;
                at = part.Length;
            }
            else if (i == parts.Length - 1)
            {
                return value.Length - at >= part.Length && value.EndsWith(part, StringComparison.OrdinalIgnoreCase);
            }
            else
            {
                var found = value.IndexOf(part, at, StringComparison.OrdinalIgnoreCase);
                if (found < 0) return false;
                at = found + part.Length;
            }
        }
        return true;
    }
}
