using System.Text.RegularExpressions;

namespace Aggregator.MockUpstream;

/// <summary>A fault or quirk by name, with its optional number (<c>429:2</c>, <c>drop_after:5</c>, <c>slow:50</c>).</summary>
public sealed record MockFault(string Name, int? Argument)
{
    public override string ToString() => Argument is { } a ? $"{Name}:{a}" : Name;
}

/// <summary>The faults chosen for one request: first match wins among header, magic word, key setting, key text.</summary>
public sealed partial class MockFaults
{
    public const string Header = "X-Mock-Fault";

    /// <summary>Faults that replace the whole answer with an HTTP error.</summary>
    internal static readonly string[] HttpErrors = ["401", "403", "404", "429", "insufficient_quota", "500", "503", "504", "529"];

    public static readonly MockFaults None = new([], "none");

    public IReadOnlyList<MockFault> All { get; }

    /// <summary>Where the faults came from: header, prompt, key, key-text or none.</summary>
    public string Source { get; }

    MockFaults(IReadOnlyList<MockFault> all, string source) => (All, Source) = (all, source);

    public bool Has(string name) => All.Any(f => f.Name == name);

    public int? Argument(string name) => All.FirstOrDefault(f => f.Name == name)?.Argument;

    public int ArgumentOr(string name, int fallback) => Argument(name) ?? fallback;

    /// <summary>The first fault that turns the answer into an HTTP error, if any.</summary>
    public MockFault? HttpError => All.FirstOrDefault(f => HttpErrors.Contains(f.Name));

    public static MockFaults Parse(string? text, string source = "header")
    {
        if (string.IsNullOrWhiteSpace(text)) return None;
        var faults = FaultPattern().Matches(text.ToLowerInvariant())
            .Select(m => new MockFault(m.Groups["name"].Value, m.Groups["arg"].Success ? int.Parse(m.Groups["arg"].Value) : null))
            .ToList();
        return faults.Count == 0 ? None : new MockFaults(faults, source);
    }

    internal static MockFaults Resolve(string? header, string? lastUserText, string? apiKey, MockUpstreamState state)
    {
        var fromHeader = Parse(header, "header");
        if (fromHeader.All.Count > 0) return fromHeader;
        if (lastUserText is not null)
        {
            var words = MagicWord().Matches(lastUserText).Select(m => m.Groups[1].Value);
            var fromPrompt = Parse(string.Join(',', words), "prompt");
            if (fromPrompt.All.Count > 0) return fromPrompt;
        }
        if (apiKey is null) return None;
        var fromState = Parse(state.KeyFault(apiKey), "key");
        if (fromState.All.Count > 0) return fromState;
        var text = KeyText().Match(apiKey);
        return text.Success ? Parse(text.Groups[1].Value, "key-text") : None;
    }

    [GeneratedRegex(@"(?<name>[a-z0-9_]+)(?::(?<arg>\d{1,9}))?")]
    private static partial Regex FaultPattern();

    [GeneratedRegex(@"mock:fault=([a-z0-9_:,]+)", RegexOptions.IgnoreCase)]
    private static partial Regex MagicWord();

    [GeneratedRegex(@"fault=([a-z0-9_]+(?::\d{1,9})?)", RegexOptions.IgnoreCase)]
    private static partial Regex KeyText();
}
