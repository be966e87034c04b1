using System.ComponentModel.DataAnnotations;
using System.Net;
using Aggregator.Web.Security;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Api;

/// <summary>Failed API token authentications allowed per client address and window (section <c>Api:FailedTokens</c>).</summary>
public sealed class FailedTokenThrottleOptions
{
    public const string Section = "Api:FailedTokens";

    [Range(1, 100_000)] public int FailuresPerAddress { get; set; } = 20;
    [Range(1, 3600)] public int WindowSeconds { get; set; } = 60;
}

/// <summary>
/// Limits guessing API tokens: each unknown token costs a database read, so a client address that failed
/// <see cref="FailedTokenThrottleOptions.FailuresPerAddress"/> times in a window is refused (429 with
/// Retry-After, in the caller's protocol) before any look-up until the window ends. Counted in
/// <see cref="IAttemptWindows"/>, so across every node when Redis is configured.
/// </summary>
public sealed class FailedTokenThrottle(IAttemptWindows windows, IOptions<FailedTokenThrottleOptions> options)
{
    static string Name(IPAddress? client) => "token-failures:" + (client?.ToString() ?? "unknown");

    /// <summary>How long the address must wait, or null when it may try.</summary>
    public ValueTask<TimeSpan?> RefuseAsync(IPAddress? client, CancellationToken cancellationToken) =>
        windows.PeekAsync(Name(client), options.Value.FailuresPerAddress, cancellationToken);

    public async ValueTask CountFailureAsync(IPAddress? client, CancellationToken cancellationToken) =>
        await windows.HitAsync([(Name(client), int.MaxValue)], TimeSpan.FromSeconds(options.Value.WindowSeconds), cancellationToken);
}
