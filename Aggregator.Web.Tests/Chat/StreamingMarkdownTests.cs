using Aggregator.Web.Features.Chat;

namespace Aggregator.Web.Tests.Chats; // not ".Chat": the mock tests call a helper named Chat()

/// <summary>Snapshots of a growing reply: the same HTML as rendering the whole text, for a fraction of the work.</summary>
public sealed class StreamingMarkdownTests
{
    readonly MarkdownRenderer renderer = new();

    public static TheoryData<string> Replies => new()
    {
        "# Title\n\nA paragraph with **bold** and `code`.\n\nAnother one.\n\n## Next\n\nText after.",
        "Here is code:\n\n```python\ndef f():\n\n    return 1\n\n\nprint(f())\n```\n\nAnd after the fence.\n\n~~~\nx\n\n~~~~\n\nDone.",
        "Steps:\n\n1. First\n2. Second\n\n3. Third, loose\n\n   continued paragraph of the third\n\n       indented code in the item\n\nAfter the list.",
        "- a\n- b\n\n- c\n\n* star list\n\n+ plus list\n\n---\n\nAfter a rule.\n\n- - -\n\nend",
        "> quoted\n\n> still the same quote?\n\nplain\n\n    indented code\n\n    more code\n\nnot code",
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n| c |\n|---|\n| 3 |\n\nText with a footnote[^1].\n\n[^1]: The note.\n\nlast",
        "Setext\n======\n\n2024 was a year.\n\n1) paren list\n2) two\n\n*emphasis* starts here\n\n**bold** too\n\n```\nunclosed fence at the end\n\nstill code",
        "crlf line\r\n\r\nnext paragraph\r\n\r\n```js\r\nlet x;\r\n\r\n```\r\n\r\nend\r\n",
        // Maths: a $$ block may hold blank lines; \( \[ and $ spans live inside paragraphs.
        "Energy $E=mc^2$ and \\(a^2+b^2\\).\n\n$$\n\\begin{aligned}\nx &= 1\n\n\\\\ y &= 2\n\\end{aligned}\n$$\n\nAfter the display.\n\n$$\nunclosed maths at the end\n\nstill maths",
        "Display:\n\\[\n\\frac{1}{2}\n\\]\n\nPrices $5 and $10, powers x^2.\n\n- item $x_i$\n\n- item \\(y\\)\n\n```\n$$\n\ncode, not maths\n```\n\n  $$\n  indented fence\n\n  $$\n\ndone $$a$$",
    };

    [Theory]
    [MemberData(nameof(Replies))]
    public void Every_snapshot_equals_rendering_the_whole_text_so_far(string reply)
    {
        var streaming = new StreamingMarkdown(renderer);
        // Tokens of a few characters, as a model sends them; every prefix a snapshot could see.
        for (var length = 1; length <= reply.Length; length += 3)
        {
            var prefix = reply[..length];
            Assert.Equal(StreamingMarkdown.RenderSoFar(renderer, prefix), streaming.Render(prefix));
        }
        Assert.Equal(renderer.Render(reply), streaming.Render(reply));
    }

    [Fact]
    public void A_long_reply_is_rendered_block_by_block_not_whole_on_every_snapshot()
    {
        var paragraph = "A sentence of a long answer that goes on for a while, with *some* emphasis. ";
        var reply = string.Concat(Enumerable.Range(1, 200).Select(i => $"## Part {i}\n\n{paragraph}{paragraph}\n\n"));
        var streaming = new StreamingMarkdown(renderer);
        var snapshots = 0;
        for (var length = 10; length <= reply.Length; length += 40, snapshots++)
            streaming.Render(reply[..length]);
        var wholeEachTime = (long)snapshots * reply.Length / 2; // what rendering every prefix whole costs, about
        Assert.True(streaming.RenderedChars < wholeEachTime / 50,
            $"{streaming.RenderedChars:N0} characters rendered over {snapshots} snapshots; whole-text rendering is about {wholeEachTime:N0}");
        Assert.Equal(renderer.Render(reply), streaming.Render(reply));
    }

    [Fact]
    public void A_table_being_written_shows_as_plain_text_until_its_delimiter_row_is_complete()
    {
        const string reply = "Results:\n\n| Name | Score |\n|------|------:|\n| Ann | 3 |\n\nDone.";
        var streaming = new StreamingMarkdown(renderer);
        var delimiterEnd = reply.IndexOf("|\n| Ann", StringComparison.Ordinal) + 1;
        for (var length = reply.IndexOf('|'); length <= reply.Length; length++)
        {
            var html = streaming.Render(reply[..length]);
            if (length <= delimiterEnd)
            {
                Assert.DoesNotContain("|", html); // no pipes flash, and no half-table
                Assert.DoesNotContain("<table", html);
                if (length >= reply.IndexOf("Name", StringComparison.Ordinal) + 4) Assert.Contains("<p class=\"md-pending\">Name", html);
            }
            else Assert.Contains("<table>", html);
        }
        Assert.Equal(renderer.Render(reply), streaming.Render(reply));
    }

    [Fact]
    public void Pipes_inside_a_code_fence_are_code_not_a_pending_table()
    {
        const string reply = "```\n| not | a table |";
        Assert.Equal(renderer.Render(reply), new StreamingMarkdown(renderer).Render(reply));
    }

    [Fact]
    public void Text_that_does_not_continue_the_previous_one_starts_over()
    {
        var streaming = new StreamingMarkdown(renderer);
        streaming.Render("First reply.\n\nSecond paragraph.\n\nThird");
        Assert.Equal(renderer.Render("Other text.\n\nMore"), streaming.Render("Other text.\n\nMore"));
    }
}
