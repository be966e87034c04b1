using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Account;

/// <summary>Login attempts allowed per window (section <c>Login</c>).</summary>
public sealed class LoginThrottleOptions
{
    /// <summary>From one client address, whatever the account: stops one host guessing across accounts.</summary>
    [Range(1, 100_000)] public int AttemptsPerAddress { get; set; } = 30;

    /// <summary>
    /// For one account from one address. Counted per address so a stranger throttles only themselves,
    /// never the owner signing in from elsewhere.
    /// </summary>
    [Range(1, 10_000)] public int AttemptsPerAccount { get; set; } = 5;

    [Range(1, 3600)] public int WindowSeconds { get; set; } = 60;
}

/// <summary>
/// Rate limits the login form (the ASP.NET Core rate limiter's partitioned fixed windows, chained):
/// per client address, and per normalised email from that address.
/// </summary>
public sealed class LoginThrottle : IDisposable
{
    readonly PartitionedRateLimiter<LoginAttempt> _limiter;
    readonly TimeSpan _window;

    public LoginThrottle(IOptions<LoginThrottleOptions> options)
    {
        var o = options.Value;
        _window = TimeSpan.FromSeconds(o.WindowSeconds);
        var byAddress = PartitionedRateLimiter.Create<LoginAttempt, string>(a =>
            RateLimitPartition.GetFixedWindowLimiter(a.Address, _ => Window(o.AttemptsPerAddress)));
        var byAccount = PartitionedRateLimiter.Create<LoginAttempt, (string, string)>(a =>
            RateLimitPartition.GetFixedWindowLimiter((a.Account, a.Address), _ => Window(o.AttemptsPerAccount)));
        _limiter = PartitionedRateLimiter.CreateChained(byAddress, byAccount);
    }

    FixedWindowRateLimiterOptions Window(int permits) => new() { PermitLimit = permits, Window = _window, QueueLimit = 0 };

    /// <summary>Null when the attempt may go ahead; otherwise how long until the next one may.</summary>
    public TimeSpan? Refuse(IPAddress? client, string normalizedEmail)
    {
        using var lease = _limiter.AttemptAcquire(new LoginAttempt(client?.ToString() ?? "unknown", normalizedEmail));
        if (lease.IsAcquired) return null;
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero ? retryAfter : _window;
    }

    public void Dispose() => _limiter.Dispose();

    readonly record struct LoginAttempt(string Address, string Account);
}
