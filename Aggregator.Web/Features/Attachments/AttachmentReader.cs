using Aggregator.Web.Data;
using Microsoft.Extensions.Options;
using SkiaSharp;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Exceptions;

namespace Aggregator.Web.Features.Attachments;

/// <summary>A file read and checked, not stored yet: what becomes an <see cref="Attachment"/>.</summary>
public sealed record ReadFile(string FileName, FileContent.Sniffed Type, byte[] Data, string? Text, int? Width, int? Height, byte[]? Thumbnail);

/// <summary>Refused input, with a message fit to show the user.</summary>
public sealed class AttachmentRefusedException(string message, int status = StatusCodes.Status400BadRequest) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// Reads an uploaded file for what the chat needs: an image is decoded (proving it is one) and gets a
/// thumbnail; a PDF gives its text (PdfPig); a text file is its text. Anything else is refused.
/// </summary>
public sealed class AttachmentReader(IOptions<AttachmentOptions> options)
{
    const string Accepted = "Attach images (PNG, JPEG, GIF, WebP), PDFs or text files.";

    public ReadFile Read(string fileName, byte[] data)
    {
        if (data.Length == 0) throw new AttachmentRefusedException($"{fileName} is empty.");
        var type = FileContent.Sniff(data)
            ?? throw new AttachmentRefusedException($"{fileName} is not an image, a PDF or a text file (judged by its content, whatever its name says). {Accepted}",
                StatusCodes.Status415UnsupportedMediaType);
        return type.Kind switch
        {
            AttachmentKind.Image => Image(fileName, type, data),
            AttachmentKind.Pdf => Pdf(fileName, type, data),
            _ => TextFile(fileName, type, data),
        };
    }

    ReadFile Image(string fileName, FileContent.Sniffed type, byte[] data)
    {
        using var codec = SKCodec.Create(new SKMemoryStream(data))
            ?? throw new AttachmentRefusedException($"{fileName} looks like an image ({type.ContentType}) but cannot be read. {Accepted}",
                StatusCodes.Status415UnsupportedMediaType);
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        var max = options.Value.MaxImagePixels;
        if ((long)width * height > max)
            throw new AttachmentRefusedException($"{fileName} is {width:N0} × {height:N0} pixels; images can have at most {max / 1_000_000.0:0.#} million pixels. Make it smaller.");
        return new ReadFile(fileName, type, data, null, width, height, Thumbnail(codec, fileName));
    }

    /// <summary>A WebP no larger than <see cref="AttachmentOptions.ThumbnailPixels"/> a side, decoded at the smallest size the codec allows (JPEG: 1/8 steps).</summary>
    byte[] Thumbnail(SKCodec codec, string fileName)
    {
        var side = options.Value.ThumbnailPixels;
        var info = codec.Info;
        var scale = Math.Min(1f, (float)side / Math.Max(info.Width, info.Height));
        var decodedSize = codec.GetScaledDimensions(scale);
        var decodeInfo = new SKImageInfo(decodedSize.Width, decodedSize.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var decoded = new SKBitmap(decodeInfo);
        var result = codec.GetPixels(decodeInfo, decoded.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
            throw new AttachmentRefusedException($"{fileName} looks like an image but cannot be read ({result}). {Accepted}", StatusCodes.Status415UnsupportedMediaType);
        var width = Math.Max(1, (int)Math.Round(info.Width * scale));
        var height = Math.Max(1, (int)Math.Round(info.Height * scale));
        using var small = decoded.Width == width && decoded.Height == height
            ? decoded.Copy()
            : decoded.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        using var oriented = Oriented(small, codec.EncodedOrigin);
        using var image = SKImage.FromBitmap(oriented);
        using var encoded = image.Encode(SKEncodedImageFormat.Webp, 80);
        return encoded.ToArray();
    }

    /// <summary>Phone photos are stored sideways with an EXIF orientation; the thumbnail is turned upright.</summary>
    static SKBitmap Oriented(SKBitmap bitmap, SKEncodedOrigin origin)
    {
        var degrees = origin switch
        {
            SKEncodedOrigin.BottomRight => 180,
            SKEncodedOrigin.RightTop => 90,
            SKEncodedOrigin.LeftBottom => 270,
            _ => 0,
        };
        if (degrees == 0) return bitmap.Copy();
        var sideways = degrees != 180;
        var turned = new SKBitmap(sideways ? bitmap.Height : bitmap.Width, sideways ? bitmap.Width : bitmap.Height);
        using var canvas = new SKCanvas(turned);
        canvas.Translate(turned.Width / 2f, turned.Height / 2f);
        canvas.RotateDegrees(degrees);
        canvas.Translate(-bitmap.Width / 2f, -bitmap.Height / 2f);
        canvas.DrawBitmap(bitmap, 0, 0);
        return turned;
    }

    ReadFile Pdf(string fileName, FileContent.Sniffed type, byte[] data)
    {
        var text = new System.Text.StringBuilder();
        try
        {
            using var pdf = PdfDocument.Open(data);
            foreach (var page in pdf.GetPages())
            {
                var pageText = page.Text.Trim();
                if (pageText.Length == 0) continue;
                if (text.Length > 0) text.Append("\n\n");
                text.Append(pageText);
                if (text.Length > options.Value.MaxTextChars) break;
            }
        }
        catch (PdfDocumentEncryptedException)
        {
            throw new AttachmentRefusedException($"{fileName} is password-protected. Remove the password, then attach it again.");
        }
        catch (Exception ex) when (ex is UglyToad.PdfPig.Core.PdfDocumentFormatException or InvalidOperationException or ArgumentException or IndexOutOfRangeException or NullReferenceException or FormatException)
        {
            throw new AttachmentRefusedException($"{fileName} is damaged or not a PDF this server can read.");
        }
        if (text.Length == 0)
            throw new AttachmentRefusedException($"{fileName} has no text to read (it may be a scan). Attach its pages as images instead, for a model that sees images.");
        return new ReadFile(fileName, type, data, Limited(fileName, text.ToString()), null, null, null);
    }

    ReadFile TextFile(string fileName, FileContent.Sniffed type, byte[] data) =>
        new(fileName, type, data, Limited(fileName, FileContent.Text(data)!), null, null, null);

    string Limited(string fileName, string text)
    {
        var max = options.Value.MaxTextChars;
        if (text.Length > max)
            throw new AttachmentRefusedException($"{fileName} has more than {max:N0} characters of text; at most {max:N0} can be added to a message. Attach a part of it.");
        return text;
    }
}
