using Aggregator.Web.Features.Chat;

namespace Aggregator.Web.Tests.Chats; // not ".Chat": the mock tests call a helper named Chat()

public sealed class MarkdownRendererTests
{
    readonly MarkdownRenderer renderer = new();

    [Theory]
    [InlineData("<script>alert(1)</script>", "<script")]
    [InlineData("<img src=x onerror=alert(1)>", "<img")]
    [InlineData("[x](javascript:alert(1))", "href=\"javascript")]
    [InlineData("[x](JaVaScRiPt:alert(1))", "href=\"JaVaScRiPt")]
    [InlineData("[x](data:text/html;base64,PHNjcmlwdD4=)", "href=\"data:")]
    [InlineData("<javascript:alert(1)>", "href=\"javascript")]
    [InlineData("![x](https://tracker.example/p.gif)", "<img")]
    [InlineData("[x](vbscript:msgbox)", "href=\"vbscript")]
    [InlineData("text {onclick=alert(1)}", "onclick=\"")]
    [InlineData("| a |\n|:-:|\n| b |", "style=")]
    public void Dangerous_markdown_is_rendered_inert(string markdown, string forbidden)
    {
        Assert.DoesNotContain(forbidden, renderer.Render(markdown), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Safe_links_keep_their_target_with_rel_and_unsafe_ones_keep_only_their_text()
    {
        var html = renderer.Render("[site](https://example.com) and [bad](javascript:alert(1)) and <mailto:a@example.com>");
        Assert.Contains("<a href=\"https://example.com\" rel=\"noopener noreferrer nofollow\">site</a>", html);
        Assert.Contains("bad", html);
        Assert.Contains("href=\"mailto:a@example.com\"", html);
    }

    [Fact]
    public void Tables_task_lists_and_code_blocks_render()
    {
        var html = renderer.Render("| a | b |\n|---|--:|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n```python\nprint(1)\n```");
        Assert.Contains("<table>", html);
        Assert.Contains("class=\"text-end\"", html);
        Assert.Contains("type=\"checkbox\"", html);
        Assert.Contains("<code class=\"language-python\">", html);
    }

    [Theory]
    [InlineData("Energy: $E=mc^2$ and more", "<span class=\"math math-inline\">E=mc^2</span>")]
    [InlineData("x^2^ + y^2^ = z^2^", "x^2^ + y^2^ = z^2^")]
    [InlineData("H~2~O and a~i~", "H~2~O and a~i~")]
    public void Carets_and_single_tildes_in_maths_stay_as_written(string markdown, string expected)
    {
        var html = renderer.Render(markdown);
        Assert.Contains(expected, html);
        Assert.DoesNotContain("<sup>", html);
        Assert.DoesNotContain("<sub>", html);
    }

    [Fact]
    public void Strikethrough_still_renders()
    {
        Assert.Contains("<del>gone</del>", renderer.Render("~~gone~~ kept"));
    }
}
