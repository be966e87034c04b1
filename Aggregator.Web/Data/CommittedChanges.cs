using System.Data.Common;
using System.Runtime.CompilerServices;
using Aggregator.Web.Cluster;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Aggregator.Web.Data;

/// <summary>What kind of data a committed save touched, as far as anything cached in memory cares.</summary>
[Flags]
public enum ChangedData
{
    None = 0,
    /// <summary>Providers, API keys or models: what the catalogue and the routing table are built from.</summary>
    Catalog = 1,
    /// <summary>A user's tier or roles.</summary>
    Accounts = 2,
    /// <summary>A personal access token was created, revoked or deleted (not its last-used time).</summary>
    Tokens = 4,
}

/// <summary>A committed change as every node hears it.</summary>
/// <param name="UserIds">The accounts an <see cref="ChangedData.Accounts"/> change touched; null when unknown (every account).</param>
/// <param name="Here">Saved by this node (false: heard from another node, or a re-read after Redis came back).</param>
public sealed record CommittedChange(ChangedData Data, IReadOnlyCollection<string>? UserIds, bool Here)
{
    /// <summary>What a node may have missed while it was cut off from the others: everything.</summary>
    public static readonly CommittedChange Everything = new(ChangedData.Catalog | ChangedData.Accounts | ChangedData.Tokens, null, false);
}

/// <summary>
/// Told after a save that changed <see cref="ChangedData"/> has committed (never for a save that failed or rolled back),
/// on the node that saved it and, through the cluster bus, on every other node.
/// </summary>
public interface ICommittedChangesListener
{
    ValueTask OnCommittedAsync(ChangedData changes, CancellationToken cancellationToken);

    /// <summary>The same, with which accounts changed and where; listeners that care override it.</summary>
    ValueTask OnCommittedAsync(CommittedChange change, CancellationToken cancellationToken) => OnCommittedAsync(change.Data, cancellationToken);
}

/// <summary>
/// The one place that turns a database change into cache invalidation: every <see cref="AppDbContext"/>
/// save is classified before it runs, and the listeners hear of it once the change is committed —
/// at the end of the save, or at the commit of the explicit transaction the save ran in. So no
/// handler calls an invalidate method, and a reader woken by the listener sees the committed rows.
/// Changes made with ExecuteUpdate/ExecuteDelete bypass the change tracker and are not seen: paths
/// that must invalidate change tracked entities. Each committed change is also published on the
/// cluster bus (<see cref="ClusterChanges"/>), so every other node drops its copies too.
/// </summary>
public sealed partial class CommittedChangesInterceptor(IServiceProvider services, ILogger<CommittedChangesInterceptor> log)
    : ISaveChangesInterceptor, IDbTransactionInterceptor
{
    sealed class Pending
    {
        public ChangedData Saving;       // classified by the save in progress
        public ChangedData Uncommitted;  // saved inside an explicit transaction that has not committed yet
        public readonly HashSet<string> SavingUsers = new(StringComparer.Ordinal);
        public readonly HashSet<string> UncommittedUsers = new(StringComparer.Ordinal);

        public void Clear()
        {
            Saving = Uncommitted = ChangedData.None;
            SavingUsers.Clear();
            UncommittedUsers.Clear();
        }
    }

    readonly ConditionalWeakTable<DbContext, Pending> _pending = new();

    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Classify(eventData.Context);
        return result;
    }

    public ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Classify(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        SavedAsync(eventData.Context).AsTask().GetAwaiter().GetResult();
        return result;
    }

    public async ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        await SavedAsync(eventData.Context);
        return result;
    }

    public void SaveChangesFailed(DbContextErrorEventData eventData) => Failed(eventData.Context);

    public Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Failed(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) =>
        CommittedAsync(eventData.Context).AsTask().GetAwaiter().GetResult();

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default) =>
        CommittedAsync(eventData.Context).AsTask();

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Forget(eventData.Context);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    void Classify(DbContext? context)
    {
        if (context is null) return;
        var changes = ChangedData.None;
        var pending = _pending.GetOrCreateValue(context);
        pending.SavingUsers.Clear();
        foreach (var entry in context.ChangeTracker.Entries())
        {
            if (entry.State is not (EntityState.Added or EntityState.Modified or EntityState.Deleted)) continue;
            changes |= entry.Entity switch
            {
                Provider or ApiKey or AiModel => ChangedData.Catalog,
                AppUser user when entry.State != EntityState.Modified || entry.Property(nameof(AppUser.Tier)).IsModified
                    || entry.Property(nameof(AppUser.SecurityStamp)).IsModified => Account(pending, user.Id),
                IdentityUserRole<string> role => Account(pending, role.UserId),
                ApiToken when entry.State != EntityState.Modified || entry.Property(nameof(ApiToken.RevokedAt)).IsModified
                    || entry.Property(nameof(ApiToken.MonthlyBudgetUsd)).IsModified || entry.Property(nameof(ApiToken.MonthlyTokenBudget)).IsModified => ChangedData.Tokens,
                _ => ChangedData.None,
            };
        }
        pending.Saving = changes;
    }

    static ChangedData Account(Pending pending, string userId)
    {
        pending.SavingUsers.Add(userId);
        return ChangedData.Accounts;
    }

    ValueTask SavedAsync(DbContext? context)
    {
        if (context is null || !_pending.TryGetValue(context, out var pending)) return ValueTask.CompletedTask;
        pending.Uncommitted |= pending.Saving;
        pending.Saving = ChangedData.None;
        pending.UncommittedUsers.UnionWith(pending.SavingUsers);
        pending.SavingUsers.Clear();
        // Inside an explicit transaction: wait for its commit.
        return context.Database.CurrentTransaction is null ? CommittedAsync(context) : ValueTask.CompletedTask;
    }

    void Failed(DbContext? context)
    {
        if (context is null || !_pending.TryGetValue(context, out var pending)) return;
        pending.Saving = ChangedData.None;
        pending.SavingUsers.Clear();
        if (context.Database.CurrentTransaction is null) pending.Clear();
    }

    void Forget(DbContext? context)
    {
        if (context is not null && _pending.TryGetValue(context, out var pending)) pending.Clear();
    }

    static readonly AsyncLocal<Coalesced?> CurrentCoalesced = new();

    /// <summary>
    /// Until disposed, committed changes on this async flow are collected and told once, at the end
    /// (a model sync commits one batch at a time: the caches need one refresh, not one per batch).
    /// Disposing tells the listeners even when the work in between failed after some commits.
    /// </summary>
    public IAsyncDisposable Coalesce()
    {
        var coalesced = new Coalesced(this, CurrentCoalesced.Value);
        CurrentCoalesced.Value = coalesced;
        return coalesced;
    }

    sealed class Coalesced(CommittedChangesInterceptor owner, Coalesced? outer) : IAsyncDisposable
    {
        public ChangedData Changes;
        public readonly HashSet<string> Users = new(StringComparer.Ordinal);

        public async ValueTask DisposeAsync()
        {
            CurrentCoalesced.Value = outer;
            var changes = Changes;
            Changes = ChangedData.None;
            if (outer is not null)
            {
                outer.Changes |= changes;
                outer.Users.UnionWith(Users);
            }
            else await owner.NotifyAsync(changes, [.. Users]);
        }
    }

    async ValueTask CommittedAsync(DbContext? context)
    {
        if (context is null || !_pending.TryGetValue(context, out var pending)) return;
        // EF's own transaction around a save commits before SavedChanges runs: take both.
        var changes = pending.Uncommitted | pending.Saving;
        string[] users = [.. pending.UncommittedUsers, .. pending.SavingUsers];
        pending.Clear();
        if (CurrentCoalesced.Value is { } coalesced)
        {
            coalesced.Changes |= changes;
            coalesced.Users.UnionWith(users);
        }
        else await NotifyAsync(changes, users);
    }

    async ValueTask NotifyAsync(ChangedData changes, string[] users)
    {
        if (changes == ChangedData.None) return;
        var change = new CommittedChange(changes, users.Distinct(StringComparer.Ordinal).ToArray(), Here: true);
        await NotifyHereAsync(change);
        // Then every other node (which runs the same listeners, not this one again).
        await services.GetRequiredService<ClusterChanges>().PublishAsync(change);
    }

    /// <summary>Runs this node's listeners; for a change saved here, or heard from another node.</summary>
    public async ValueTask NotifyHereAsync(CommittedChange change)
    {
        foreach (var listener in services.GetServices<ICommittedChangesListener>())
        {
            try
            {
                // The change is committed whatever the caller's token says: always tell the caches.
                await listener.OnCommittedAsync(change, CancellationToken.None);
            }
            catch (Exception ex)
            {
                // The rows are saved; failing the caller now would report a save that did happen.
                LogListenerFailed(ex, listener.GetType().Name, change.Data);
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "{Listener} failed after a committed change to {Changes}; caches refresh on their own expiry")]
    partial void LogListenerFailed(Exception ex, string listener, ChangedData changes);
}
