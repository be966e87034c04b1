using System.Buffers;

namespace Aggregator.Web.Features.Api;

/// <summary>Reads a /v1 request body with one size limit for every endpoint, refusing a larger one with 413 before parsing.</summary>
public static class ApiBody
{
    /// <summary>Room for a few inline images (data URLs) next to a long conversation.</summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    public static async Task<ReadOnlyMemory<byte>> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBytes) throw new ApiException(TooLarge());
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(request.ContentLength ?? 4096, MaxBytes));
        while (true)
        {
            var read = await request.BodyReader.ReadAsync(ct);
            foreach (var segment in read.Buffer) buffer.Write(segment.Span);
            request.BodyReader.AdvanceTo(read.Buffer.End);
            if (buffer.WrittenCount > MaxBytes) throw new ApiException(TooLarge());
            if (read.IsCompleted) return buffer.WrittenMemory;
        }
    }

    static ApiError TooLarge() => new(StatusCodes.Status413PayloadTooLarge, "invalid_request_error", "request_too_large",
        $"The body is larger than {MaxBytes / (1024 * 1024)} MB.");
}
