using System.Security.Claims;
using System.Text.Encodings.Web;
using Aggregator.Web.Features.Account;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// The "ApiToken" scheme (<see cref="SchemeName"/>): <c>Authorization: Bearer agg-…</c> (OpenAI clients) or <c>x-api-key: agg-…</c>
/// (Anthropic clients; their <c>anthropic-version</c> and <c>anthropic-beta</c> headers are accepted and ignored),
/// checked against <see cref="ApiCallers"/>. A refusal is answered in the caller's protocol (<see cref="ApiError"/>
/// follows the endpoint's <see cref="CallerStandard"/>), never with a redirect to the log-in page.
/// </summary>
public sealed class TokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiCallers callers, FailedTokenThrottle failures)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";
    public const string TokenIdClaim = "aggregator:token";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var secret = Presented(Request);
        if (secret is null) return AuthenticateResult.NoResult();
        var client = Context.Connection.RemoteIpAddress;
        // An address that keeps presenting bad tokens is refused before the look-up each guess would cost
        // (a token answered from the cache costs none, and is not held up by a shared counter).
        if (!callers.IsCached(secret) && await failures.RefuseAsync(client, Context.RequestAborted) is { } wait)
        {
            Context.Features.Set(new TokenThrottled(wait));
            return AuthenticateResult.Fail("too many failed API token authentications");
        }
        var (caller, refusal) = await callers.AuthenticateAsync(secret, Context.RequestAborted);
        if (caller is null)
        {
            await failures.CountFailureAsync(client, Context.RequestAborted);
            Context.Features.Set(new TokenRefused(refusal));
            return AuthenticateResult.Fail(refusal.ToString());
        }
        Context.Features.Set(caller);
        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, caller.UserId),
            new Claim(ClaimTypes.Name, caller.UserName),
            new Claim(AccountExtensions.TierClaim, caller.Tier.ToString()),
            new Claim(TokenIdClaim, caller.TokenId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Features.Get<TokenThrottled>() is { } throttled)
            return ApiError.RateLimited(
                $"Too many failed API token authentications from this address; try again in {Math.Max(1, Math.Ceiling(throttled.Wait.TotalSeconds))} s.",
                throttled.Wait).ExecuteAsync(Context);
        var message = Context.Features.Get<TokenRefused>()?.Refusal switch
        {
            null => "No API token. Send it as 'Authorization: Bearer agg-…' (or 'x-api-key: agg-…'); create one under Account → API tokens.",
            TokenRefusal.Revoked => "This API token was revoked.",
            TokenRefusal.Expired => "This API token has expired.",
            TokenRefusal.OwnerLocked => "The account this API token belongs to is locked.",
            _ => "This API token is not valid.",
        };
        return ApiError.Unauthorized(message).ExecuteAsync(Context);
    }

    static string? Presented(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return authorization[7..].Trim();
        var apiKey = request.Headers["x-api-key"].ToString();
        return apiKey.Length > 0 ? apiKey.Trim() : null;
    }

    sealed record TokenRefused(TokenRefusal Refusal);
    sealed record TokenThrottled(TimeSpan Wait);
}
