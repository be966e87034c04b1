using Markdig;
using Markdig.Extensions.EmphasisExtras;
using Markdig.Extensions.Tables;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// Renders a model's Markdown to HTML that is safe to insert into the page: raw HTML is escaped,
/// only http/https/mailto links survive (others become plain text), images become links (no
/// third-party fetch from a model's say-so), table alignment uses classes (CSP forbids style
/// attributes). Extensions that could emit attributes or embeds (generic attributes, media links)
/// are deliberately left out, and so are superscript and subscript (<c>^x^</c>, <c>~x~</c>): models write
/// maths such as <c>$E=mc^2$</c> and <c>a~i~</c>, which those would mangle. Maths itself is marked out as
/// escaped TeX for the page's KaTeX (<see cref="MarkdownMaths"/>).
/// </summary>
public sealed class MarkdownRenderer
{
    readonly MarkdownPipeline pipeline = new MarkdownPipelineBuilder()
        .DisableHtml()
        .UsePipeTables()
        .UseGridTables()
        .UseTaskLists()
        .UseEmphasisExtras(EmphasisExtraOptions.Strikethrough | EmphasisExtraOptions.Inserted | EmphasisExtraOptions.Marked)
        .UseListExtras()
        .UseDefinitionLists()
        .UseFootnotes()
        .UseAutoLinks()
        .UseReferralLinks("noopener", "noreferrer", "nofollow")
        .Use<MarkdownMaths>()
        .Build();

    public string Render(string markdown)
    {
        if (string.IsNullOrEmpty(markdown)) return "";
        var document = Markdown.Parse(markdown, pipeline);
        foreach (var node in document.Descendants().ToList())
        {
            switch (node)
            {
                case LinkInline link:
                    Sanitise(link);
                    break;
                case AutolinkInline auto when !IsAllowed(auto.Url, auto.IsEmail):
                    auto.ReplaceBy(new LiteralInline(auto.Url));
                    break;
                case Table table:
                    AlignWithClasses(table);
                    break;
            }
        }
        return document.ToHtml(pipeline);
    }

    static void Sanitise(LinkInline link)
    {
        if (!IsAllowed(link.Url, false))
        {
            // Keep what the reader would see (the link text), drop the target.
            var text = new ContainerInline();
            var label = link.FirstChild;
            while (label is not null)
            {
                var next = label.NextSibling;
                label.Remove();
                text.AppendChild(label);
                label = next;
            }
            link.ReplaceBy(text);
            return;
        }
        if (link.IsImage)
        {
            // An image a model names could be a tracking pixel: show it as a link instead.
            link.IsImage = false;
            if (link.FirstChild is null) link.AppendChild(new LiteralInline(link.Url ?? "image"));
            link.GetAttributes().AddClass("md-image-link");
        }
    }

    static bool IsAllowed(string? url, bool isEmail)
    {
        if (isEmail) return true;
        if (string.IsNullOrWhiteSpace(url)) return false;
        return Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri)
               && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeMailto);
    }

    static void AlignWithClasses(Table table)
    {
        for (var i = 0; i < table.ColumnDefinitions.Count; i++)
        {
            var alignment = table.ColumnDefinitions[i].Alignment;
            if (alignment is null) continue;
            var css = alignment switch
            {
                TableColumnAlign.Center => "text-center",
                TableColumnAlign.Right => "text-end",
                _ => "text-start",
            };
            foreach (var row in table.OfType<TableRow>())
                for (var c = 0; c < row.Count; c++)
                    if (row[c] is TableCell cell && (cell.ColumnIndex >= 0 ? cell.ColumnIndex : c) == i)
                        cell.GetAttributes().AddClass(css);
            table.ColumnDefinitions[i].Alignment = null;
        }
    }
}
