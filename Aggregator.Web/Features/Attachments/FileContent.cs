using System.Globalization;
using System.Text;
using Aggregator.Web.Data;

namespace Aggregator.Web.Features.Attachments;

/// <summary>
/// What a file really is, from its bytes: the name and the Content-Type a browser sends are the sender's
/// claim, so neither is consulted. Only these media types are ever stored or served.
/// </summary>
public static class FileContent
{
    public sealed record Sniffed(AttachmentKind Kind, string ContentType);

    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>PNG, JPEG, GIF, WebP, PDF by magic number; text when the whole file is UTF-8 without NULs; otherwise null.</summary>
    public static Sniffed? Sniff(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])) return new(AttachmentKind.Image, "image/png");
        if (data.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])) return new(AttachmentKind.Image, "image/jpeg");
        if (data.StartsWith("GIF87a"u8) || data.StartsWith("GIF89a"u8)) return new(AttachmentKind.Image, "image/gif");
        if (data.Length >= 12 && data.StartsWith("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8)) return new(AttachmentKind.Image, "image/webp");
        if (data.StartsWith("%PDF-"u8)) return new(AttachmentKind.Pdf, "application/pdf");
        return Text(data) is not null ? new(AttachmentKind.Text, "text/plain; charset=utf-8") : null;
    }

    /// <summary>The file as text (a UTF-8 byte order mark dropped), or null when it is not valid UTF-8 or holds a NUL.</summary>
    public static string? Text(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) data = data[3..];
        if (data.Length == 0 || data.Contains((byte)0)) return null;
        try
        {
            return StrictUtf8.GetString(data);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>A name fit for a header and the page: no folders, no control characters, at most 255 characters.</summary>
    public static string CleanName(string? name)
    {
        var clean = new string(Path.GetFileName((name ?? "").Replace('\\', '/')).Where(c => !char.IsControl(c)).ToArray()).Trim();
        if (clean.Length == 0 || clean is "." or "..") clean = "file";
        return clean.Length <= 255 ? clean : clean[..255];
    }

    public static string Size(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MB"),
    };
}
