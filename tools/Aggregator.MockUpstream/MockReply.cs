using System.Globalization;
using System.Text.RegularExpressions;

namespace Aggregator.MockUpstream;

/// <summary>What a chat answer will contain and how fast it comes, decided from the request alone.</summary>
internal sealed partial record ReplyPlan(
    IReadOnlyList<string> Tokens,
    IReadOnlyList<string> Reasoning,
    bool Truncated,
    int PromptTokens,
    TimeSpan FirstDelay,
    TimeSpan PerToken,
    MockToolCall? ToolCall = null)
{
    /// <summary>Content chunks, reasoning chunks and tool-argument fragments: one token each.</summary>
    public int CompletionTokens => Tokens.Count + Reasoning.Count + (ToolCall?.Fragments.Count ?? 0);
    public string Text => string.Concat(Tokens);
    public string ReasoningText => string.Concat(Reasoning);

    const string Filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ";
    const string Thinking = "The user wants a demonstration. I will echo the message, then show a heading, a list, a table and a code block. ";

    public static ReplyPlan For(MockRequest request, string model, int? maxTokens)
    {
        var options = request.State.Options;
        var user = request.LastUserText ?? "";
        var toolCall = MockTools.For(request);
        var tokens = toolCall is not null ? []
            : ExactReply().Match(user) is { Success: true } exact ? Tokenize(exact.Groups[1].Value)
            : Compose(Opening(request, user), model, Magic(user, "tokens") is { } n ? (int)Math.Clamp(n, 1, 1_000_000) : options.ReplyTokens, request.Faults.Has("huge"));
        var reasoning = request.Faults.Has("reasoning") ? Tokenize(Thinking) : [];

        var truncated = false;
        // A tool call is never cut: its arguments must stay valid JSON.
        if (toolCall is null && maxTokens is { } max && max > 0 && reasoning.Count + tokens.Count > max)
        {
            truncated = true;
            reasoning = [.. reasoning.Take(max)];
            tokens = [.. tokens.Take(Math.Max(0, max - reasoning.Count))];
        }

        var tps = Magic(user, "tps") ?? options.TokensPerSecond;
        var perToken = request.Faults.Argument("slow") is { } slow ? TimeSpan.FromMilliseconds(slow)
            : tps > 0 ? TimeSpan.FromSeconds(1 / tps) : TimeSpan.Zero;
        var firstDelay = Magic(user, "delay") is { } delay ? TimeSpan.FromMilliseconds(delay) : options.FirstTokenDelay;
        var promptTokens = Math.Max(1, (int)Math.Ceiling(request.PromptCharacters() / 4.0));
        return new ReplyPlan(tokens, reasoning, truncated, promptTokens, firstDelay, perToken, toolCall);
    }

    /// <summary>
    /// The first line echoes what the model answers: the tool result the conversation ends with, else the
    /// last user message; then how many images arrived, so tests can see what reached the model.
    /// </summary>
    static string Opening(MockRequest request, string user)
    {
        var opening = request.ToolResultText is { } result
            ? $"The tool returned: \"{FirstWords(result)}\""
            : $"You said: \"{FirstWords(user)}\"";
        return request.Images.Count > 0 ? $"{opening}\n\nI see {request.Images.Count} image(s)." : opening;
    }

    static string FirstWords(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Take(12));

    /// <summary>Echo plus Markdown with a heading, a list, a table and a fenced code block, padded or cut to <paramref name="count"/> tokens.</summary>
    static List<string> Compose(string opening, string model, int count, bool huge)
    {
        if (huge)
        {
            // ~10 MB: 10,240 tokens of 1 KiB each.
            var block = string.Concat(Enumerable.Repeat(Filler, 9))[..1023] + " ";
            return [.. Enumerable.Repeat(block, 10_240)];
        }
        var text = $"""
            {opening}

            ## Mock reply

            - First item with **bold** text
            - Second item with `inline code`
            - Unicode: naïve café, 日本語 🚀

            | Key | Value |
            |-----|-------|
            | model | {model} |

            ```python
            print("hello")
            ```


            """;
        var tokens = Tokenize(text);
        var filler = Tokenize(Filler);
        for (var i = 0; tokens.Count < count; i++) tokens.Add(filler[i % filler.Count]);
        return tokens.Count > count ? tokens.GetRange(0, count) : tokens;
    }

    /// <summary>Words with their trailing whitespace: concatenating the tokens gives the text back exactly.</summary>
    public static List<string> Tokenize(string text)
    {
        var tokens = Word().Matches(text).Select(m => m.Value).ToList();
        var leading = text.Length - text.TrimStart().Length;
        if (leading > 0 && tokens.Count > 0) tokens[0] = text[..leading] + tokens[0];
        else if (leading > 0) tokens.Add(text);
        return tokens;
    }

    static double? Magic(string text, string name) =>
        MagicNumber().Matches(text).FirstOrDefault(m => m.Groups[1].Value.Equals(name, StringComparison.OrdinalIgnoreCase)) is { } m
            ? double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@"\S+\s*")]
    private static partial Regex Word();

    [GeneratedRegex(@"mock:(tokens|delay|tps)=(\d+(?:\.\d+)?)", RegexOptions.IgnoreCase)]
    private static partial Regex MagicNumber();

    [GeneratedRegex(@"mock:reply=(.*)\z", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex ExactReply();
}
