using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Aggregator.Web.Security;
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
/// Rate limits the login form with fixed windows (<see cref="IAttemptWindows"/>, shared by every node
/// when Redis is configured): per client address, and per normalised email from that address.
/// </summary>
public sealed class LoginThrottle(IAttemptWindows windows, IOptions<LoginThrottleOptions> options)
{
    /// <summary>Null when the attempt may go ahead; otherwise how long until the next one may.</summary>
    public async ValueTask<TimeSpan?> RefuseAsync(IPAddress? client, string normalizedEmail, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var address = "login:" + (client?.ToString() ?? "unknown");
        // The email is hashed: counter names end up in Redis, which should not hold a list of addresses.
        var account = address + ":" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(normalizedEmail)), 0, 16);
        var wait = await windows.HitAsync([(address, o.AttemptsPerAddress), (account, o.AttemptsPerAccount)], TimeSpan.FromSeconds(o.WindowSeconds), cancellationToken);
        return wait is { } w && w > TimeSpan.Zero ? w : wait is null ? null : TimeSpan.FromSeconds(o.WindowSeconds);
    }
}
