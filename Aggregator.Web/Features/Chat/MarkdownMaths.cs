using Markdig;
using Markdig.Extensions.Mathematics;
using Markdig.Helpers;
using Markdig.Parsers;
using Markdig.Parsers.Inlines;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax.Inlines;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// Maths in a model's Markdown: <c>$…$</c> and <c>\(…\)</c> inline, <c>$$…$$</c> and <c>\[…\]</c> displayed.
/// The server only marks maths out, as escaped TeX source in <c>span.math</c> / <c>div.math</c>
/// (classes <c>math-inline</c> / <c>math-display</c>); the page typesets it with KaTeX (wwwroot-src/chat/maths.ts),
/// so the TeX is never HTML and a <c>&lt;script&gt;</c> in it is text. Markdig's own rules decide what a dollar
/// is (an opening <c>$</c> followed by a space, or a closing one followed by a digit, is not maths: "$5 and $10"
/// stays prices). <c>\(</c> and <c>\[</c> are Markdown escapes, so a parser of ours runs before the escape parser.
/// Code spans and blocks are never parsed for inlines, so maths delimiters in code stay code.
/// </summary>
public sealed class MarkdownMaths : IMarkdownExtension
{
    public void Setup(MarkdownPipelineBuilder pipeline)
    {
        if (!pipeline.InlineParsers.Contains<MathInlineParser>()) pipeline.InlineParsers.Insert(0, new MathInlineParser());
        if (!pipeline.BlockParsers.Contains<MathBlockParser>()) pipeline.BlockParsers.Insert(0, new MathBlockParser());
        if (!pipeline.InlineParsers.Contains<BracketMathParser>()) pipeline.InlineParsers.InsertBefore<EscapeInlineParser>(new BracketMathParser());
    }

    public void Setup(MarkdownPipeline pipeline, IMarkdownRenderer renderer)
    {
        if (renderer is not HtmlRenderer html) return;
        html.ObjectRenderers.RemoveAll(r => r is HtmlMathInlineRenderer or HtmlMathBlockRenderer);
        html.ObjectRenderers.Insert(0, new InlineMathsRenderer());
        html.ObjectRenderers.Insert(0, new DisplayMathsRenderer());
    }

    /// <summary><c>\(…\)</c> (inline) and <c>\[…\]</c> (display) within a paragraph; unclosed, they stay escapes.</summary>
    sealed class BracketMathParser : InlineParser
    {
        public BracketMathParser() => OpeningCharacters = ['\\'];

        public override bool Match(InlineProcessor processor, ref StringSlice slice)
        {
            var open = slice.PeekChar();
            if (open is not ('(' or '[')) return false;
            var close = open == '(' ? "\\)" : "\\]";
            var text = slice.Text;
            var start = slice.Start + 2;
            var end = text.IndexOf(close, start, slice.End - start + 1, StringComparison.Ordinal);
            if (end < 0 || text.AsSpan(start, end - start).IsWhiteSpace()) return false;
            processor.Inline = new MathInline
            {
                Delimiter = open,
                DelimiterCount = open == '(' ? 1 : 2,
                Content = new StringSlice(text, start, end - 1),
                Span = new Markdig.Syntax.SourceSpan(processor.GetSourcePosition(slice.Start, out var line, out var column), processor.GetSourcePosition(end + 1)),
                Line = line,
                Column = column,
            };
            slice.Start = end + 2;
            return true;
        }
    }

    /// <summary>Inline maths; <c>$$…$$</c> or <c>\[…\]</c> inside a paragraph is displayed (KaTeX's display mode).</summary>
    sealed class InlineMathsRenderer : HtmlObjectRenderer<MathInline>
    {
        protected override void Write(HtmlRenderer renderer, MathInline math)
        {
            renderer.Write(math.DelimiterCount >= 2 ? "<span class=\"math math-display\">" : "<span class=\"math math-inline\">");
            renderer.WriteEscape(math.Content.AsSpan().Trim());
            renderer.Write("</span>");
        }
    }

    sealed class DisplayMathsRenderer : HtmlObjectRenderer<MathBlock>
    {
        protected override void Write(HtmlRenderer renderer, MathBlock math)
        {
            renderer.EnsureLine();
            renderer.Write("<div class=\"math math-display\">");
            renderer.WriteLeafRawLines(math, true, true);
            renderer.Write("</div>");
            renderer.EnsureLine();
        }
    }
}
