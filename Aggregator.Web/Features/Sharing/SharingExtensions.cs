using System.ComponentModel.DataAnnotations;
using Aggregator.Web.Features.Account;
using Aggregator.Web.Features.Chat;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Aggregator.Web.Features.Sharing;

/// <summary>Export (a conversation, all of a user's data), import (ChatGPT), share links, and the sidebar's places.</summary>
public static class SharingExtensions
{
    public const string ImportPath = "/account/import/chatgpt";
    public const string ArchivePath = "/account/export";
    /// <summary>Where the import's outcome is shown (TempData keys of that page).</summary>
    public const string DataPage = "/Account/Data";
    public const string ImportStatusKey = "ImportStatus";
    public const string ImportErrorKey = "ImportError";

    public static IServiceCollection AddSharing(this IServiceCollection services)
    {
        services.AddOptions<ImportOptions>().BindConfiguration("Import").ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<ConversationExport>();
        services.AddScoped<DataArchive>();
        services.AddScoped<ChatGptImport>();
        services.AddScoped<ShareLinks>();
        services.AddScoped<ConversationPlaces>();
        return services;
    }

    public static IEndpointRouteBuilder MapSharing(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("").RequireAuthorization();
        group.MapGet("/conversations/{id:guid}/export.md", (Guid id, HttpContext http, Conversations conversations, ConversationExport export) =>
            DownloadAsync(http, conversations, id, "md", "text/markdown; charset=utf-8", export.WriteMarkdownAsync));
        group.MapGet("/conversations/{id:guid}/export.json", (Guid id, HttpContext http, Conversations conversations, ConversationExport export) =>
            DownloadAsync(http, conversations, id, "json", "application/json; charset=utf-8", export.WriteJsonAsync));
        group.MapGet(ArchivePath, async (HttpContext http, DataArchive archive) =>
        {
            Attach(http, $"aggregator-data-{DateTime.UtcNow:yyyy-MM-dd}.json", "application/json; charset=utf-8");
            await archive.WriteAsync(http.User.GetUserId()!, http.Response.Body, http.RequestAborted);
        });
        group.MapPost(ImportPath, ImportAsync);
        return endpoints;
    }

    static async Task DownloadAsync(HttpContext http, Conversations conversations, Guid id, string extension, string contentType,
        Func<Data.Conversation, Stream, CancellationToken, Task> write)
    {
        var conversation = await conversations.FindAsync(http.User.GetUserId()!, id, http.RequestAborted);
        if (conversation is null)
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        Attach(http, ConversationExport.FileName(conversation.Title, extension), contentType);
        await write(conversation, http.Response.Body, http.RequestAborted);
    }

    static void Attach(HttpContext http, string fileName, string contentType)
    {
        var disposition = new ContentDispositionHeaderValue("attachment");
        disposition.SetHttpFileName(fileName);
        http.Response.Headers.ContentDisposition = disposition.ToString();
        http.Response.ContentType = contentType;
        http.Response.Headers.CacheControl = "no-store";
    }

    /// <summary>
    /// The upload form's target. The size is checked before the body is read (a 200 MB file is refused
    /// at once, not after it was buffered); the form's antiforgery token is checked before anything is written.
    /// The outcome goes back to the data page (post, redirect, get).
    /// </summary>
    static async Task<IResult> ImportAsync(HttpContext http, ChatGptImport import, IAntiforgery antiforgery, IOptions<ImportOptions> options,
        ITempDataDictionaryFactory tempData)
    {
        var max = options.Value.MaxBytes;
        var tooLarge = $"The file is too large: the limit for an import is {Megabytes(max)}. Export fewer conversations, or split the file.";
        string? error = null;
        string? status = null;
        if (http.Request.ContentLength > max + FormOverhead)
            error = $"The file is too large ({Megabytes(http.Request.ContentLength.Value)}): the limit for an import is {Megabytes(max)}.";
        else
        {
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = max + FormOverhead;
            try
            {
                await antiforgery.ValidateRequestAsync(http);
                var form = await http.Request.ReadFormAsync(http.RequestAborted);
                var file = form.Files.GetFile("file");
                if (file is null || file.Length == 0) error = "Choose a file first: ChatGPT's conversations.json (from Settings → Data controls → Export).";
                else if (file.Length > max) error = tooLarge;
                else
                {
                    await using var stream = file.OpenReadStream();
                    var result = await import.ImportAsync(http.User.GetUserId()!, stream, http.RequestAborted);
                    status = $"Imported {result.Conversations:N0} conversation{(result.Conversations == 1 ? "" : "s")} with {result.Messages:N0} messages.";
                }
            }
            catch (Exception ex) when (ex is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                                           || ex.InnerException is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                                           || ex is InvalidDataException)
            {
                error = tooLarge;
            }
            catch (AntiforgeryValidationException)
            {
                return Results.BadRequest();
            }
            catch (ImportException ex)
            {
                error = "Nothing was imported. " + ex.Message;
            }
        }
        var data = tempData.GetTempData(http);
        if (error is not null) data[ImportErrorKey] = error;
        if (status is not null) data[ImportStatusKey] = status;
        data.Save();
        return Results.Redirect(DataPage, permanent: false, preserveMethod: false);
    }

    /// <summary>Room for the multipart boundaries and the antiforgery field around the file.</summary>
    const long FormOverhead = 64 * 1024;

    static string Megabytes(long bytes) => bytes >= 1024 * 1024 ? $"{bytes / (1024.0 * 1024):0.#} MB" : $"{bytes / 1024.0:0.#} KB";
}

public sealed class ImportOptions
{
    /// <summary>Largest conversations.json accepted by an import.</summary>
    [Range(1024, 1L << 32)] public long MaxBytes { get; set; } = 50L * 1024 * 1024;
}
