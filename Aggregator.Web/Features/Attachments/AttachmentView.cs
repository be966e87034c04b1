using Aggregator.Web.Data;

namespace Aggregator.Web.Features.Attachments;

/// <summary>An attachment as the page shows it: its name and size, where to open it, and its thumbnail when it is an image.</summary>
public sealed record AttachmentView(Guid Id, string FileName, string Kind, string ContentType, long SizeBytes, string Size,
    int? Width, int? Height, string Url, string? ThumbnailUrl)
{
    public static AttachmentView Of(Attachment a) => new(a.Id, a.FileName, a.Kind.ToString().ToLowerInvariant(), a.ContentType, a.SizeBytes,
        FileContent.Size(a.SizeBytes), a.Width, a.Height, $"{AttachmentEndpoints.Path}/{a.Id}",
        a.ThumbnailKey is null ? null : $"{AttachmentEndpoints.Path}/{a.Id}/thumbnail");
}
