using Aggregator.Web.Features.Chat;
using Aggregator.Web.Infrastructure;

namespace Aggregator.Web.Tests.Infrastructure;

public sealed class DisplayTextTests
{
    [Theory]
    [InlineData("gpt-4o", "gpt-4o")]
    [InlineData("gpt\u202E-4o", "gpt-4o")]                 // right-to-left override
    [InlineData("\u202Agpt\u202B\u202C\u202D-4o", "gpt-4o")] // embeddings and pop
    [InlineData("\u2066gpt\u2067\u2068-4o\u2069", "gpt-4o")] // isolates
    [InlineData("\u200Egpt\u200F-4o\u061C", "gpt-4o")]       // direction marks
    [InlineData("g\u200Bp\u200Ct\u200D-4o", "gpt-4o")]       // zero-width space, non-joiner, joiner
    [InlineData("\uFEFFgpt\u2060-4o", "gpt-4o")]             // BOM, word joiner
    [InlineData("gpt\u0000\u0007\u001B-4o\u007F", "gpt-4o")] // C0 controls and DEL
    [InlineData("gpt\u0085\u009B-4o", "gpt -4o")]            // C1 controls (NEL becomes a space)
    [InlineData("line one\nline\ttwo\r\n", "line one line two  ")]
    [InlineData("Ünïcödé 模型 🤖 café", "Ünïcödé 模型 🤖 café")] // real text is kept
    [InlineData("", "")]
    public void Clean_strips_invisible_direction_and_control_characters(string input, string expected) =>
        Assert.Equal(expected, DisplayText.Clean(input));

    [Fact]
    public void Clean_returns_the_same_string_when_nothing_is_stripped()
    {
        var text = "claude-sonnet-4-5";
        Assert.Same(text, DisplayText.Clean(text));
    }

    [Fact]
    public void Conversation_titles_are_cleaned_the_same_way()
    {
        Assert.Equal("Why is the sky blue?", Conversations.TitleFrom("\u202EWhy is the\u200B sky blue?\u2069\nmore"));
        Assert.Equal(Conversations.DefaultTitle, Conversations.TitleFrom("\u200B\u202E"));
    }
}
