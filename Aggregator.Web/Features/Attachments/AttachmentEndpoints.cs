using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Aggregator.Web.Features.Attachments;

/// <summary>
/// Upload (POST, multipart "files"), download, thumbnail and removal of an unsent upload. Only the owner
/// reaches a file, and only while its conversation is not deleted: anyone else's id finds nothing (404).
/// Changes need the page's antiforgery token, as every form of the app does.
/// </summary>
public static class AttachmentEndpoints
{
    public const string Path = "/api/attachments";

    public static IEndpointRouteBuilder MapAttachments(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Path).RequireAuthorization();
        group.MapPost("", UploadAsync);
        group.MapGet("/{id:guid}", (Guid id, HttpContext http, AppDbContext db, IAttachmentStore store, CancellationToken ct) =>
            ServeAsync(id, thumbnail: false, http, db, store, ct));
        group.MapGet("/{id:guid}/thumbnail", (Guid id, HttpContext http, AppDbContext db, IAttachmentStore store, CancellationToken ct) =>
            ServeAsync(id, thumbnail: true, http, db, store, ct));
        group.MapDelete("/{id:guid}", RemoveUnsentAsync);
        return endpoints;
    }

    /// <summary>The user's attachments whose conversation (if any) is not deleted.</summary>
    public static IQueryable<Attachment> Reachable(AppDbContext db, string userId) =>
        db.Attachments.Where(a => a.UserId == userId
            && (a.ConversationId == null || db.Conversations.Any(c => c.Id == a.ConversationId && c.DeletedAt == null)));

    static async Task<Results<Ok<UploadResult>, ProblemHttpResult>> UploadAsync(HttpContext http, IAntiforgery antiforgery,
        AttachmentIntake intake, IOptions<AttachmentOptions> options, CancellationToken ct)
    {
        var tier = http.User.GetTier();
        var limits = options.Value.For(tier);
        var tierName = tier.ToString().ToLowerInvariant();
        // One body limit per request, from the tier: all its files at their largest, plus the form's framing.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
            bodySize.MaxRequestBodySize = limits.MaxFileBytes * limits.MaxFiles + 1024 * 1024;
        try
        {
            await antiforgery.ValidateRequestAsync(http);
            if (!http.Request.HasFormContentType) return Problem(StatusCodes.Status400BadRequest, "Send the files as multipart/form-data.");
            var form = await http.Request.ReadFormAsync(ct);
            var uploads = form.Files.Select(f => new Upload(FileContent.CleanName(f.FileName), f.Length, async token =>
            {
                await using var stream = f.OpenReadStream();
                var data = new byte[f.Length];
                await stream.ReadExactlyAsync(data, token);
                return data;
            })).ToList();
            var accepted = await intake.AcceptAsync(http.User.GetUserId()!, tier, uploads, ct);
            return TypedResults.Ok(new UploadResult(accepted.Select(AttachmentView.Of).ToList()));
        }
        catch (AntiforgeryValidationException)
        {
            return Problem(StatusCodes.Status400BadRequest, "This page is out of date. Reload it, then attach the files again.");
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            var size = http.Request.ContentLength is { } length ? $" ({FileContent.Size(length)})" : "";
            return Problem(StatusCodes.Status413PayloadTooLarge,
                $"The upload is too large{size}: on the {tierName} tier a file can be up to {limits.MaxFileMegabytes} MB, {limits.MaxFiles} files to a message. Nothing was attached.");
        }
        catch (InvalidDataException)
        {
            return Problem(StatusCodes.Status400BadRequest, "The upload was not a readable form. Try again.");
        }
        catch (AttachmentRefusedException ex)
        {
            return Problem(ex.Status, ex.Message);
        }
    }

    static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);

    static async Task<IResult> ServeAsync(Guid id, bool thumbnail, HttpContext http, AppDbContext db, IAttachmentStore store, CancellationToken ct)
    {
        var attachment = await Reachable(db, http.User.GetUserId()!).AsNoTracking()
            .Where(a => a.Id == id).Select(a => new { a.FileName, a.ContentType, a.Kind, a.StorageKey, a.ThumbnailKey })
            .FirstOrDefaultAsync(ct);
        var key = thumbnail ? attachment?.ThumbnailKey : attachment?.StorageKey;
        if (attachment is null || key is null) return TypedResults.NotFound();

        var headers = http.Response.Headers;
        // The bytes never change; revalidated every time so a deleted conversation's files stop at once.
        var etag = $"\"{id:N}{(thumbnail ? "-t" : "")}\"";
        headers.ETag = etag;
        headers.CacheControl = "private, no-cache";
        headers.XContentTypeOptions = "nosniff";
        // Nothing served here is a page: no script, no styles, no frames, even if a browser were to render it.
        headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        if (http.Request.Headers.IfNoneMatch.Contains(etag)) return TypedResults.StatusCode(StatusCodes.Status304NotModified);

        var stream = await store.OpenAsync(key, ct);
        if (stream is null) return TypedResults.NotFound();
        // Only the sniffed image types are shown in place; text, PDFs (and anything else) are downloads.
        var inline = thumbnail || attachment.Kind == AttachmentKind.Image;
        var disposition = new ContentDispositionHeaderValue(inline ? "inline" : "attachment");
        disposition.SetHttpFileName(thumbnail ? System.IO.Path.GetFileNameWithoutExtension(attachment.FileName) + ".webp" : attachment.FileName);
        headers.ContentDisposition = disposition.ToString();
        return TypedResults.Stream(stream, thumbnail ? "image/webp" : attachment.ContentType);
    }

    /// <summary>A preview removed before sending: the upload goes at once (a sent file stays with its question).</summary>
    static async Task<Results<NoContent, NotFound, ProblemHttpResult>> RemoveUnsentAsync(Guid id, HttpContext http, IAntiforgery antiforgery,
        AppDbContext db, IAttachmentStore store, CancellationToken ct)
    {
        try
        {
            await antiforgery.ValidateRequestAsync(http);
        }
        catch (AntiforgeryValidationException)
        {
            return Problem(StatusCodes.Status400BadRequest, "This page is out of date. Reload it and try again.");
        }
        var userId = http.User.GetUserId()!;
        var attachment = await db.Attachments.FirstOrDefaultAsync(a => a.Id == id && a.UserId == userId && a.MessageId == null, ct);
        if (attachment is null) return TypedResults.NotFound();
        await AttachmentJanitor.DeleteBytesAsync(store, [attachment], ct);
        db.Attachments.Remove(attachment);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }
}

public sealed record UploadResult(IReadOnlyList<AttachmentView> Attachments);
