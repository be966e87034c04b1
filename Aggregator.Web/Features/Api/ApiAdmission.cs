using System.Globalization;
using Aggregator.Web.Upstream.Usage;
using Microsoft.AspNetCore.Http.Features;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// What every POST under <c>/v1</c> passes before its handler runs, whatever the endpoint: the token's
/// monthly budgets, then its requests-per-minute limit. It is one filter on the <c>/v1</c> group
/// (<see cref="ApiExtensions.MapApi"/>), so an endpoint mapped on that group cannot skip it. The
/// owner's tier quotas are the router's (<see cref="TierQuotas"/>), shared with the chat.
/// Nothing here touches the database per request: spend is <see cref="ITokenSpend"/>'s running total (in Redis with several nodes).
/// </summary>
public sealed class ApiAdmission(ITokenSpend spend, ITokenRateLimits limits, TimeProvider time)
{
    /// <summary>Lets the request in, or throws the 429 <see cref="ApiException"/> that refuses it.</summary>
    public async ValueTask AdmitAsync(ApiCaller caller, CancellationToken cancellationToken)
    {
        // Budget first: a refused request should not use up one of the minute's permits.
        await CheckBudgetsAsync(caller, cancellationToken);
        await limits.AcquireAsync(caller, cancellationToken);
    }

    async ValueTask CheckBudgetsAsync(ApiCaller caller, CancellationToken cancellationToken)
    {
        if (caller.MonthlyBudgetUsd is null && caller.MonthlyTokenBudget is null) return;
        var spent = await spend.MonthToDateAsync(caller.TokenId, cancellationToken);
        var which = caller.MonthlyBudgetUsd is { } usd && spent.Usd >= usd
                ? string.Create(CultureInfo.InvariantCulture, $"monthly budget of {usd:0.00####} USD ({spent.Usd:0.00####} USD spent)")
            : caller.MonthlyTokenBudget is { } tokens && spent.Tokens >= tokens
                ? string.Create(CultureInfo.InvariantCulture, $"monthly budget of {tokens:N0} tokens ({spent.Tokens:N0} used)")
            : null;
        if (which is null) return;
        var now = time.GetUtcNow().UtcDateTime;
        var renews = TokenSpend.NextMonth(now);
        throw new ApiException(ApiError.BudgetExhausted(
            string.Create(CultureInfo.InvariantCulture, $"This API token's {which} is used up; it renews on {renews:yyyy-MM-dd} at 00:00 UTC."),
            renews - now));
    }

    /// <summary>The /v1 group's filter: every POST is admitted (or refused) here before its endpoint runs.</summary>
    internal static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (HttpMethods.IsPost(http.Request.Method))
            await http.RequestServices.GetRequiredService<ApiAdmission>().AdmitAsync(http.Features.GetRequiredFeature<ApiCaller>(), http.RequestAborted);
        return await next(context);
    }
}
