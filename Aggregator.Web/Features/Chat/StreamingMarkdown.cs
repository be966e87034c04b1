namespace Aggregator.Web.Features.Chat;

/// <summary>
/// The rendered snapshots of one growing reply. Blocks that can no longer change (everything before a
/// block boundary) are rendered once and kept; each snapshot renders only the open tail after them.
/// So a tick costs the size of the last block, not of the whole reply (a 20,000-character answer was
/// parsed whole, several times a second, for every stream).
/// A boundary is a blank line outside a fenced code or maths block that is followed by a line starting a new,
/// unrelated block: not indented (a list item's continuation, indented code) and not a list item or a
/// quote (which may continue the block before: one loose list, one quote). Rendered apart, the pieces
/// give the HTML the whole text gives. The final HTML is still rendered from the whole text
/// (reference links and footnotes can point backwards across blocks).
/// A table still being written (its rows so far, with no complete delimiter row under the header yet) would show
/// as a paragraph of pipes and then jump into a table: until it is a table it shows as plain text
/// (<see cref="RenderSoFar"/>).
/// </summary>
public sealed class StreamingMarkdown(MarkdownRenderer renderer)
{
    string _stableHtml = "";
    int _stableLength;

    /// <summary>Characters handed to Markdig so far (for tests and the benchmark: the work done).</summary>
    public long RenderedChars { get; private set; }

    /// <summary>The HTML of <paramref name="content"/>, which must extend the text of the previous call.</summary>
    public string Render(string content)
    {
        if (content.Length < _stableLength || string.CompareOrdinal(content, 0, LastStableText, 0, _stableLength) != 0)
            Reset(); // not a continuation (never the case while streaming, but never wrong)
        var boundary = LastBoundary(content, _stableLength);
        if (boundary > _stableLength)
        {
            _stableHtml += RenderPart(content, _stableLength, boundary);
            _stableLength = boundary;
            LastStableText = content[..boundary];
        }
        if (_stableLength == content.Length) return _stableHtml;
        var pending = PendingTableStart(content, _stableLength);
        return _stableHtml + (pending > _stableLength ? RenderPart(content, _stableLength, pending) : "") + PlainText(content, pending);
    }

    /// <summary>What the whole text so far renders to on screen: what <see cref="Render"/> gives, without its savings.</summary>
    internal static string RenderSoFar(MarkdownRenderer renderer, string content)
    {
        var pending = PendingTableStart(content, 0);
        return renderer.Render(content[..pending]) + PlainText(content, pending);
    }

    /// <summary>
    /// Where a trailing run of table-looking lines (starting with <c>|</c>, outside fences) begins, when it is not yet a
    /// table: its second line is not a complete delimiter row. <c>content.Length</c> when there is no such run.
    /// </summary>
    internal static int PendingTableStart(string content, int from)
    {
        char fenceChar = '\0';
        var fenceLength = 0;
        int runStart = -1, runLines = 0;
        var isTable = false;
        var lineStart = from;
        while (lineStart < content.Length)
        {
            var newline = content.IndexOf('\n', lineStart);
            var complete = newline >= 0;
            var line = content.AsSpan(lineStart, (complete ? newline : content.Length) - lineStart).TrimEnd('\r');
            if (fenceChar != '\0')
            {
                if (IsFence(line, out var c, out var n) && c == fenceChar && n >= fenceLength && line.Trim().TrimStart(c).IsEmpty) fenceChar = '\0';
            }
            else if (line.TrimStart(' ').StartsWith("|"))
            {
                if (runStart < 0) { runStart = lineStart; runLines = 0; isTable = false; }
                runLines++;
                if (runLines == 2 && complete && IsDelimiterRow(line)) isTable = true;
            }
            else
            {
                runStart = -1;
                if (IsFence(line, out var c, out var n)) { fenceChar = c; fenceLength = n; }
            }
            if (!complete) break;
            lineStart = newline + 1;
        }
        return fenceChar == '\0' && runStart >= 0 && !isTable ? runStart : content.Length;
    }

    static bool IsDelimiterRow(ReadOnlySpan<char> line) =>
        line.Contains('-') && !line.ContainsAnyExcept(" \t|:-");

    /// <summary>A table being written, as text: its cells apart, without pipes or (partial) delimiter rows.</summary>
    static string PlainText(string content, int from)
    {
        if (from >= content.Length) return "";
        var lines = content[from..].Split('\n')
            .Select(l => l.Trim().Trim('|'))
            .Where(l => l.AsSpan().ContainsAnyExcept(" \t|:-"))
            .Select(l => string.Join("   ", l.Split('|', StringSplitOptions.TrimEntries)));
        var text = string.Join("\n", lines);
        return text.Length == 0 ? "" : $"<p class=\"md-pending\">{System.Net.WebUtility.HtmlEncode(text)}</p>\n";
    }

    string LastStableText { get; set; } = "";

    void Reset()
    {
        _stableHtml = "";
        _stableLength = 0;
        LastStableText = "";
    }

    string RenderPart(string content, int from, int to)
    {
        RenderedChars += to - from;
        return renderer.Render(content[from..to]);
    }

    /// <summary>
    /// The start of the last line after <paramref name="from"/> that begins a new top-level block following a
    /// blank line, outside fenced code; <paramref name="from"/> itself when there is none. <paramref name="from"/>
    /// is always at a boundary, so outside any fence.
    /// </summary>
    internal static int LastBoundary(string text, int from)
    {
        var boundary = from;
        char fenceChar = '\0';
        var fenceLength = 0;
        var previousBlank = false;
        var lineStart = from;
        while (lineStart < text.Length)
        {
            var newline = text.IndexOf('\n', lineStart);
            if (newline < 0) break; // the last line is still being written: it decides nothing yet
            var line = text.AsSpan(lineStart, newline - lineStart).TrimEnd('\r');
            if (fenceChar != '\0')
            {
                if (IsFence(line, out var c, out var n) && c == fenceChar && n >= fenceLength && line.Trim().TrimStart(c).IsEmpty) fenceChar = '\0';
                previousBlank = false;
            }
            else if (line.IsWhiteSpace())
            {
                previousBlank = true;
            }
            else
            {
                if (previousBlank && StartsUnrelatedBlock(line)) boundary = lineStart;
                if (IsFence(line, out var c, out var n)) { fenceChar = c; fenceLength = n; }
                previousBlank = false;
            }
            lineStart = newline + 1;
        }
        return boundary;
    }

    static bool StartsUnrelatedBlock(ReadOnlySpan<char> line)
    {
        var first = line[0];
        if (first is ' ' or '\t' or '>') return false;
        if (first is '-' or '*' or '+') return IsThematicBreak(line) || (line.Length > 1 && line[1] is not (' ' or '\t')); // not a list item
        if (char.IsAsciiDigit(first))
        {
            var i = 0;
            while (i < line.Length && i < 10 && char.IsAsciiDigit(line[i])) i++;
            return !(i < line.Length && line[i] is '.' or ')' && (i + 1 == line.Length || line[i + 1] is ' ' or '\t'));
        }
        if (first == '[' && line.Length > 1 && line[1] == '^') return false; // a footnote definition belongs with its references
        return true;
    }

    static bool IsThematicBreak(ReadOnlySpan<char> line)
    {
        var c = line[0];
        var count = 0;
        foreach (var ch in line)
        {
            if (ch == c) count++;
            else if (ch is not (' ' or '\t')) return false;
        }
        return count >= 3;
    }

    /// <summary>
    /// A code fence (up to three spaces, then three or more backticks or tildes) or a maths fence (exactly
    /// <c>$$</c> alone on its line: Markdig's MathBlockParser), whose blank lines belong to the block too.
    /// </summary>
    static bool IsFence(ReadOnlySpan<char> line, out char fence, out int length)
    {
        fence = '\0';
        length = 0;
        var i = 0;
        while (i < line.Length && i < 3 && line[i] == ' ') i++;
        if (i + 1 < line.Length && line[i] == '$' && line[i + 1] == '$' && line[(i + 2)..].IsWhiteSpace())
        {
            fence = '$';
            length = 2;
            return true;
        }
        if (i >= line.Length || line[i] is not ('`' or '~')) return false;
        var c = line[i];
        var start = i;
        while (i < line.Length && line[i] == c) i++;
        if (i - start < 3) return false;
        if (c == '`' && line[i..].Contains('`')) return false; // a backtick fence's info string has no backtick
        fence = c;
        length = i - start;
        return true;
    }
}
