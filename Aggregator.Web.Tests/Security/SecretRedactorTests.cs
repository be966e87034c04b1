using Aggregator.Web.Upstream.Protocols;

namespace Aggregator.Web.Tests.Security;

/// <summary>What counts as a piece of a key in provider text, and what is left alone.</summary>
public class SecretRedactorTests
{
    const string Secret = "sk-proj-Abc123Def456Ghi789Jkl0wxyz";
    static readonly SecretRedactor Redactor = new(Secret);

    [Theory]
    [InlineData("Incorrect API key provided: sk-proj-Abc123Def456Ghi789Jkl0wxyz.", "Incorrect API key provided: [redacted key]")]
    [InlineData("key SK-PROJ-ABC123DEF456GHI789JKL0WXYZ rejected", "key [redacted key] rejected")]
    [InlineData("Incorrect API key provided: sk-pro…wxyz. See docs.", "Incorrect API key provided: [redacted key] See docs.")]
    [InlineData("key ***wxyz is invalid", "key [redacted key] is invalid")]
    [InlineData("key sk-p********************wxyz is invalid", "key [redacted key] is invalid")]
    [InlineData("(key_wxyz)", "([redacted key])")]
    [InlineData("fragment Def456Ghi789 seen", "fragment [redacted key] seen")]
    // A word carrying the key goes whole: over-redacting an error text costs nothing.
    [InlineData("url ?key=sk-proj-Abc123Def456Ghi789Jkl0wxyz&x=1", "url [redacted key]")]
    public void Pieces_of_the_key_are_replaced(string text, string expected)
    {
        var redacted = Redactor.Redact(text);
        Assert.StartsWith(expected.TrimEnd('.'), redacted);
        Assert.DoesNotContain("wxyz", redacted, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_url_encoded_form_is_replaced()
    {
        const string secret = "key+with/odd=chars1234";
        var redactor = new SecretRedactor(secret);
        Assert.Equal("got [redacted key] back", redactor.Redact($"got {Uri.EscapeDataString(secret)} back"));
    }

    [Theory]
    [InlineData("Rate limit reached for requests. Please try again later.")]
    [InlineData("The server had an error while processing your request. Sorry about that!")]
    [InlineData("wxyz alone is not a key; neither is sk-proj or Abc123D")]
    public void Ordinary_error_text_is_left_alone(string text) => Assert.Equal(text, Redactor.Redact(text));

    [Fact]
    public void Every_field_of_an_error_body_is_redacted()
    {
        var body = Redactor.Redact(new UpstreamErrorBody(Secret, "code-" + Secret[^10..], "bad key " + Secret));
        Assert.Equal("[redacted key]", body.Type);
        Assert.Equal("[redacted key]", body.Code);
        Assert.Equal("bad key [redacted key]", body.Message);
    }
}
