using Aggregator.Web.Features.Chat;

namespace Aggregator.Web.Tests.Chats; // not ".Chat": the mock tests call a helper named Chat()

/// <summary>Maths is marked out as escaped TeX for the page's KaTeX; everything else stays Markdown.</summary>
public sealed class MathRenderingTests
{
    readonly MarkdownRenderer renderer = new();

    [Theory]
    [InlineData("Energy $E=mc^2$ here", "<span class=\"math math-inline\">E=mc^2</span>")]
    [InlineData("Energy \\(E=mc^2\\) here", "<span class=\"math math-inline\">E=mc^2</span>")]
    [InlineData("Sum: \\[\\sum_{i=1}^n i\\]", "<span class=\"math math-display\">\\sum_{i=1}^n i</span>")]
    [InlineData("Sum:\n\\[\n\\frac{a}{b}\n\\]\nend", "<span class=\"math math-display\">\\frac{a}{b}</span>")]
    [InlineData("$$\n\\int_0^1 x\\,dx\n$$", "<div class=\"math math-display\">\\int_0^1 x\\,dx\n</div>")]
    [InlineData("inline $$a+b$$ display", "<span class=\"math math-display\">a+b</span>")]
    public void Every_delimiter_marks_maths_for_katex(string markdown, string expected)
    {
        Assert.Contains(expected, renderer.Render(markdown));
    }

    [Theory]
    [InlineData("x^2 and 2^10 are powers", "x^2 and 2^10 are powers")]
    [InlineData("It costs $5 and $10 in total.", "It costs $5 and $10 in total.")]
    [InlineData("Between 16$ and $15", "Between 16$ and $15")]
    [InlineData("a \\( lone bracket", "a ( lone bracket")]
    [InlineData("escaped \\\\(not maths\\\\)", "escaped \\(not maths\\)")]
    public void Carets_prices_and_lone_escapes_are_not_maths(string markdown, string expected)
    {
        var html = renderer.Render(markdown);
        Assert.Contains(expected, html);
        Assert.DoesNotContain("class=\"math", html);
        Assert.DoesNotContain("<sup>", html);
    }

    [Theory]
    [InlineData("`$x$ and \\(y\\)`", "<code>$x$ and \\(y\\)</code>")]
    [InlineData("```\n$$\nx^2\n$$\n\\[y\\]\n```", "<pre><code>$$\nx^2\n$$\n\\[y\\]\n</code></pre>")]
    [InlineData("    $x$ indented", "<pre><code>$x$ indented\n</code></pre>")]
    public void Code_spans_and_blocks_are_left_alone(string markdown, string expected)
    {
        var html = renderer.Render(markdown);
        Assert.Contains(expected, html);
        Assert.DoesNotContain("class=\"math", html);
    }

    [Theory]
    [InlineData("$<script>alert(1)</script>$")]
    [InlineData("\\(<script>alert(1)</script>\\)")]
    [InlineData("$$\n<script>alert(1)</script>\n$$")]
    [InlineData("\\[<img src=x onerror=alert(1)>\\]")]
    public void Html_inside_maths_is_escaped_text(string markdown)
    {
        var html = renderer.Render(markdown);
        Assert.Contains("class=\"math", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;", html);
    }

    [Theory]
    [InlineData("$\\href{javascript:alert(1)}{x}$")]
    [InlineData("\\(\\url{javascript:alert(1)}\\)")]
    [InlineData("[$x$](javascript:alert(1))")]
    public void Javascript_urls_inside_maths_stay_text_never_a_link(string markdown)
    {
        var html = renderer.Render(markdown);
        Assert.Contains("class=\"math", html);
        Assert.DoesNotContain("href=", html, StringComparison.OrdinalIgnoreCase);
    }
}
