using System.ComponentModel.DataAnnotations;
using Aggregator.Web.Data;

namespace Aggregator.Web.Features.Attachments;

/// <summary>Limits and housekeeping of attachments (section <c>Attachments</c>).</summary>
public sealed class AttachmentOptions
{
    public const string Section = "Attachments";

    public TierLimits Free { get; set; } = new() { MaxFileMegabytes = 5, MaxFiles = 4 };
    public TierLimits Pro { get; set; } = new() { MaxFileMegabytes = 20, MaxFiles = 10 };
    public TierLimits Max { get; set; } = new() { MaxFileMegabytes = 30, MaxFiles = 20 };
    /// <summary>Longest text (a text file's, a PDF's) added to a prompt, in characters.</summary>
    [Range(1_000, 10_000_000)] public int MaxTextChars { get; set; } = 200_000;
    /// <summary>Largest image accepted, in pixels (width × height): decoding costs four bytes a pixel.</summary>
    [Range(1_000_000, 200_000_000)] public long MaxImagePixels { get; set; } = 25_000_000;
    /// <summary>Longest side of a thumbnail, in pixels.</summary>
    [Range(32, 2048)] public int ThumbnailPixels { get; set; } = 320;
    /// <summary>Uploads never sent with a question are removed after this long.</summary>
    [Range(1, 24 * 365)] public int OrphanHours { get; set; } = 24;
    /// <summary>A deleted conversation's files are removed this long after the delete (past the sidebar's undo).</summary>
    [Range(1, 60 * 24 * 365)] public int PurgeAfterMinutes { get; set; } = 10;
    [Range(1, 86_400)] public int SweepIntervalSeconds { get; set; } = 300;

    public TierLimits For(Tier tier) => tier switch { Tier.Max => Max, Tier.Pro => Pro, _ => Free };

    /// <summary>The one request body limit: the largest file any tier may send, several at once, plus the form's framing.</summary>
    public long MaxRequestBytes => new[] { Free, Pro, Max }.Max(t => t.MaxFileBytes * t.MaxFiles) + 1024 * 1024;

    public bool IsValid => new[] { Free, Pro, Max }.All(t => t.MaxFileMegabytes is >= 1 and <= 1024 && t.MaxFiles is >= 1 and <= 100);
}

public sealed class TierLimits
{
    public int MaxFileMegabytes { get; set; }
    /// <summary>Files attached to one question.</summary>
    public int MaxFiles { get; set; }
    public long MaxFileBytes => MaxFileMegabytes * 1024L * 1024;
}
