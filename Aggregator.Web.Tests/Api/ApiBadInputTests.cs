using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Api;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Api;

/// <summary>Bad input from issue 10 not covered elsewhere: an oversized body, a token revoked mid-stream, a deleted owner.</summary>
public sealed class ApiBadInputTests(ApiTestApp app) : IClassFixture<ApiTestApp>
{
    const int TwentyMegabytes = 20 * 1024 * 1024;

    [Theory]
    [InlineData("/v1/chat/completions", true)]
    [InlineData("/v1/chat/completions", false)] // chunked: no Content-Length to refuse it by, so the reader counts
    [InlineData("/v1/embeddings", true)]
    public async Task A_20_MB_body_is_a_413_and_nothing_reaches_the_upstream(string path, bool withLength)
    {
        var user = await app.UserAsync();
        var api = app.Api((await app.TokenAsync(user)).Secret);
        var marker = Guid.NewGuid().ToString("N");
        var json = $$"""{"model":"mock/gpt-4o-mini","input":"{{marker}}","messages":[{"role":"user","content":"{{marker}} {{new string('a', TwentyMegabytes)}}"}]}""";
        HttpContent content = withLength
            ? ApiTestApp.Json(json)
            : new StreamContent(new UnknownLengthStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var error = await (await api.PostAsync(path, content)).ErrorAsync(413);

        Assert.Equal("request_too_large", error.GetProperty("code").GetString());
        Assert.Contains("16 MB", error.GetProperty("message").GetString());
        Assert.DoesNotContain(app.Mock.State.Received, r => r.Body.Contains(marker));
    }

    [Fact]
    public async Task A_token_revoked_while_it_streams_lets_that_stream_finish_and_the_next_request_is_refused_within_a_second()
    {
        var user = await app.UserAsync();
        var (secret, id) = await app.TokenAsync(user);
        var api = app.Api(secret);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = ApiTestApp.Chat("mock/gpt-4o-mini", "long one mock:tokens=8 mock:fault=slow:100", stream: true),
        };
        using var response = await api.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line && !line.Contains("\"content\":\"You")) { } // until the first token is out

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            (await db.ApiTokens.SingleAsync(t => t.Id == id)).RevokedAt = DateTime.UtcNow;
            await db.SaveChangesAsync();
        }
        var revoked = Stopwatch.StartNew();

        // The next request, sent while the first still streams, is refused within a second of the revocation.
        var refused = await Infrastructure.Eventually.Until(() => api.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "again mock:tokens=1")),
            r => r.StatusCode == HttpStatusCode.Unauthorized, "the revoked token refused", TimeSpan.FromSeconds(1));
        Assert.True(revoked.Elapsed < TimeSpan.FromSeconds(1), $"refused after {revoked.Elapsed}");
        Assert.Contains("revoked", (await refused.ErrorAsync(401)).GetProperty("message").GetString());

        var rest = await reader.ReadToEndAsync();
        Assert.EndsWith("data: [DONE]", rest.TrimEnd()); // the running request finished normally
        Assert.Equal(7, rest.Split("\n\n").Count(e => e.Contains("\"content\":\"") && !e.Contains("\"content\":\"\"")));
    }

    [Fact]
    public async Task A_token_of_a_deleted_user_is_a_401_on_every_endpoint_at_once()
    {
        var user = await app.UserAsync();
        var (secret, _) = await app.TokenAsync(user);
        var api = app.Api(secret);
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi mock:tokens=1"))).StatusCode); // cached as valid

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            Assert.True((await users.DeleteAsync((await users.FindByIdAsync(user.UserId))!)).Succeeded);
        }

        await (await api.PostAsync("/v1/chat/completions", ApiTestApp.Chat("mock/gpt-4o-mini", "hi"))).ErrorAsync(401);
        await (await api.PostAsync("/v1/embeddings", ApiTestApp.Json("""{"model":"mock/text-embedding-3-small","input":"hi"}"""))).ErrorAsync(401);
        await (await api.GetAsync("/v1/models")).ErrorAsync(401);
    }

    /// <summary>A body the client cannot size, so it goes out chunked.</summary>
    sealed class UnknownLengthStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }
    }
}
