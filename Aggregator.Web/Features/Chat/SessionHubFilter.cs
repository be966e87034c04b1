using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Microsoft.AspNetCore.SignalR;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// A hub connection outlives the cookie check of the request that opened it. So every call meets the
/// account as it is now: a changed security stamp (logout, password change) closes the connection, and
/// the call runs with the current tier and role instead of the ones the cookie carried.
/// </summary>
public sealed class SessionHubFilter(AccountStates accounts) : IHubFilter
{
    internal const string StateKey = "aggregator:account-state";

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocation, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        await RefreshAsync(invocation.Context);
        return await next(invocation);
    }

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        await RefreshAsync(context.Context);
        await next(context);
    }

    async Task RefreshAsync(HubCallerContext context)
    {
        var state = await accounts.CheckAsync(context.User, context.ConnectionAborted);
        if (state is null)
        {
            context.Abort();
            throw new HubException("Your session has ended (you logged out or your password changed). Sign in again.");
        }
        context.Items[StateKey] = state;
    }
}

public static class HubSession
{
    /// <summary>The caller's tier as checked by <see cref="SessionHubFilter"/> for this call.</summary>
    public static Tier CurrentTier(this HubCallerContext context) =>
        context.Items.TryGetValue(SessionHubFilter.StateKey, out var state) && state is AccountState account ? account.Tier : Tier.Free;

    public static bool IsAdmin(this HubCallerContext context) =>
        context.Items.TryGetValue(SessionHubFilter.StateKey, out var state) && state is AccountState { IsAdmin: true };
}
