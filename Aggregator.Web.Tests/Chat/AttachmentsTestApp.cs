using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Attachments;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace Aggregator.Web.Tests.Chats;

/// <summary>The chat test app plus a vision model on an OpenAI-standard and on an Anthropic-standard provider.</summary>
public sealed partial class AttachmentsTestApp : ChatTestApp, IAsyncLifetime
{
    public long OpenAIVisionModelId { get; private set; }
    public long AnthropicVisionModelId { get; private set; }

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var secrets = scope.ServiceProvider.GetRequiredService<SecretBox>();
        var openai = await db.Providers.SingleAsync(p => p.Name == "mock");
        OpenAIVisionModelId = (await AddModelAsync(db, openai, "gpt-4.1", "GPT-4.1 Vision", Tier.Free, caps: ModelCapabilities.Vision)).Id;
        var claude = await SeedProviderAsync(db, secrets, "claude", "Claude", Mock.AnthropicUrl);
        claude.ApiStandard = ApiStandard.Anthropic;
        claude.Kind = ProviderKind.Direct;
        await db.SaveChangesAsync();
        AnthropicVisionModelId = (await AddModelAsync(db, claude, "claude-sonnet-4-5", "Claude Sonnet 4.5", Tier.Free, caps: ModelCapabilities.Vision)).Id;
        await scope.ServiceProvider.GetRequiredService<CatalogCache>().InvalidateAsync();
    }

    /// <summary>POSTs files as the page does: multipart "files", with the page's antiforgery token.</summary>
    public static async Task<HttpResponseMessage> UploadAsync(ChatUser user, params (string Name, byte[] Data, string ClaimedType)[] files)
    {
        var token = await TokenAsync(user);
        using var form = new MultipartFormDataContent();
        foreach (var (name, data, claimed) in files)
        {
            var part = new ByteArrayContent(data);
            part.Headers.ContentType = MediaTypeHeaderValue.Parse(claimed);
            form.Add(part, "files", name);
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, AttachmentEndpoints.Path) { Content = form };
        request.Headers.Add("RequestVerificationToken", token);
        return await user.Http.SendAsync(request);
    }

    public static async Task<IReadOnlyList<AttachmentView>> UploadOkAsync(ChatUser user, params (string Name, byte[] Data, string ClaimedType)[] files)
    {
        using var response = await UploadAsync(user, files);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return System.Text.Json.JsonSerializer.Deserialize<UploadResult>(body, System.Text.Json.JsonSerializerOptions.Web)!.Attachments;
    }

    public static async Task<string> TokenAsync(ChatUser user)
    {
        var page = await user.Http.GetStringAsync("/");
        return AntiforgeryField().Match(page) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("no antiforgery token on the chat page");
    }

    public Task<int> AttachmentCountAsync(string userId) => QueryAsync(db => db.Attachments.CountAsync(a => a.UserId == userId));
    public Task<int> StoredFileCountAsync() => QueryAsync(db => db.StoredFiles.CountAsync());

    public static byte[] Png(int width = 640, int height = 480, SKColor? color = null)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(color ?? SKColors.CornflowerBlue);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A PDF with one page per text (an empty text: a page with nothing to read).</summary>
    public static byte[] Pdf(params string[] pages)
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        foreach (var text in pages)
        {
            var page = builder.AddPage(PageSize.A4);
            if (text.Length > 0) page.AddText(text, 12, new UglyToad.PdfPig.Core.PdfPoint(40, 700), font);
        }
        return builder.Build();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
