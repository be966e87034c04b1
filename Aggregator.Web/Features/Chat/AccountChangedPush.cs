using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Microsoft.AspNetCore.SignalR;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// Tells a user's open chat pages that their account changed (tier, role), so a downgrade shows as
/// locks at once instead of as a refused send. Only the node that saved the change pushes: the SignalR
/// backplane carries it to the user's connections on every node. The hub calls themselves need no
/// push: <see cref="SessionHubFilter"/> meets the new state on the next call anyway.
/// </summary>
public sealed class AccountChangedPush(AccountStates accounts, IHubContext<ChatHub, IChatClient> hub, ILogger<AccountChangedPush> log)
    : ICommittedChangesListener
{
    ValueTask ICommittedChangesListener.OnCommittedAsync(ChangedData changes, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    async ValueTask ICommittedChangesListener.OnCommittedAsync(CommittedChange change, CancellationToken cancellationToken)
    {
        if (!change.Here || !change.Data.HasFlag(ChangedData.Accounts) || change.UserIds is not { Count: > 0 } users) return;
        foreach (var userId in users)
        {
            accounts.Evict(userId); // whichever listener ran first, read the committed row
            if (await accounts.GetAsync(userId, cancellationToken) is not { } state) continue; // deleted: the filter ends its sessions
            try
            {
                await hub.Clients.User(userId).AccountChanged(new AccountChangedEvent(state.Tier.ToString().ToLowerInvariant(), state.IsAdmin));
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Could not tell user {UserId}'s chat pages about an account change", userId);
            }
        }
    }
}
