using System.Text.Json;
using Aggregator.Web.Tests.Api;
using Aggregator.Web.Upstream.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Usage;

/// <summary>Usage the provider did not report is estimated with the model family's tokenizer when there is one.</summary>
public sealed class TokenEstimatorTests(ApiTestApp app) : IClassFixture<ApiTestApp>
{
    [Theory]
    [InlineData("gpt-4o", "o200k_base")]
    [InlineData("gpt-4o-mini", "o200k_base")]
    [InlineData("openai/gpt-4.1-nano", "o200k_base")]
    [InlineData("o3-mini", "o200k_base")]
    [InlineData("o1", "o200k_base")]
    [InlineData("gpt-5", "o200k_base")]
    [InlineData("chatgpt-4o-latest", "o200k_base")]
    [InlineData("gpt-4-turbo", "cl100k_base")]
    [InlineData("gpt-4", "cl100k_base")]
    [InlineData("gpt-3.5-turbo", "cl100k_base")]
    [InlineData("claude-sonnet-4-5", null)]
    [InlineData("deepseek-chat", null)]
    [InlineData("o10-preview", null)]
    public void The_model_family_picks_the_encoding(string model, string? encoding) => Assert.Equal(encoding, TokenEstimator.EncodingOf(model));

    [Fact]
    public void Counting_matches_the_published_tokenizer()
    {
        // The figure Microsoft.ML.Tokenizers' own documentation gives for gpt-4o.
        Assert.Equal(16, TokenEstimator.Count(TokenEstimator.For("gpt-4o"), "Text tokenization is the process of splitting a string into a list of tokens."));
        Assert.Equal(3, TokenEstimator.Count(null, "abcdefghij")); // unknown family: about four characters a token
    }

    [Fact]
    public async Task A_stream_without_usage_is_recorded_with_tokenizer_counts_marked_estimated()
    {
        var user = await app.UserAsync();
        var (secret, tokenId) = await app.TokenAsync(user);
        const string prompt = "日本語のテキストは文字数で数えると大きく外れます。 mock:fault=usage_missing mock:tokens=12";
        var response = await app.Api(secret).PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", prompt, stream: true));
        var pieces = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(e => e.StartsWith("data: {", StringComparison.Ordinal))
            .Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.GetProperty("choices"))
            .Where(c => c.GetArrayLength() > 0 && c[0].GetProperty("delta").TryGetProperty("content", out var t) && t.GetString() is { Length: > 0 })
            .Select(c => c[0].GetProperty("delta").GetProperty("content").GetString()!).ToList();
        Assert.Equal(12, pieces.Count);

        await app.Services.GetRequiredService<UsageRecorder>().FlushAsync();
        var row = await app.QueryAsync(db => db.Usage.AsNoTracking().SingleAsync(u => u.ApiTokenId == tokenId));
        var o200k = TokenEstimator.For("gpt-4o-mini");
        Assert.True(row.Estimated);
        Assert.Equal(TokenEstimator.Count(o200k, prompt) + 4, row.PromptTokens);
        Assert.NotEqual(TokenEstimator.FromChars(prompt.Length + 4), row.PromptTokens); // the character heuristic would be off
        Assert.Equal(pieces.Sum(p => TokenEstimator.Count(o200k, p)), row.CompletionTokens);
    }
}
