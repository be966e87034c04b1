using System.Data.Common;
using System.Runtime.CompilerServices;
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

/// <summary>Told after a save that changed <see cref="ChangedData"/> has committed (never for a save that failed or rolled back).</summary>
public interface ICommittedChangesListener
{
    ValueTask OnCommittedAsync(ChangedData changes, CancellationToken cancellationToken);
}

/// <summary>
/// The one place that turns a database change into cache invalidation: every <see cref="AppDbContext"/>
/// save is classified before it runs, and the listeners hear of it once the change is committed —
/// at the end of the save, or at the commit of the explicit transaction the save ran in. So no
/// handler calls an invalidate method, and a reader woken by the listener sees the committed rows.
/// Changes made with ExecuteUpdate/ExecuteDelete bypass the change tracker and are not seen: paths
/// that must invalidate change tracked entities.
/// </summary>
public sealed partial class CommittedChangesInterceptor(IServiceProvider services, ILogger<CommittedChangesInterceptor> log)
    : ISaveChangesInterceptor, IDbTransactionInterceptor
{
    sealed class Pending
    {
        public ChangedData Saving;       // classified by the save in progress
        public ChangedData Uncommitted;  // saved inside an explicit transaction that has not committed yet
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
        foreach (var entry in context.ChangeTracker.Entries())
        {
            if (entry.State is not (EntityState.Added or EntityState.Modified or EntityState.Deleted)) continue;
            changes |= entry.Entity switch
            {
                Provider or ApiKey or AiModel => ChangedData.Catalog,
                AppUser when entry.State != EntityState.Modified || entry.Property(nameof(AppUser.Tier)).IsModified => ChangedData.Accounts,
                IdentityUserRole<string> => ChangedData.Accounts,
                ApiToken when entry.State != EntityState.Modified || entry.Property(nameof(ApiToken.RevokedAt)).IsModified
                    || entry.Property(nameof(ApiToken.MonthlyBudgetUsd)).IsModified || entry.Property(nameof(ApiToken.MonthlyTokenBudget)).IsModified => ChangedData.Tokens,
                _ => ChangedData.None,
            };
            if (changes == (ChangedData.Catalog | ChangedData.Accounts | ChangedData.Tokens)) break;
        }
        _pending.GetOrCreateValue(context).Saving = changes;
    }

    ValueTask SavedAsync(DbContext? context)
    {
        if (context is null || !_pending.TryGetValue(context, out var pending)) return ValueTask.CompletedTask;
        pending.Uncommitted |= pending.Saving;
        pending.Saving = ChangedData.None;
        // Inside an explicit transaction: wait for its commit.
        return context.Database.CurrentTransaction is null ? CommittedAsync(context) : ValueTask.CompletedTask;
    }

    void Failed(DbContext? context)
    {
        if (context is null || !_pending.TryGetValue(context, out var pending)) return;
        pending.Saving = ChangedData.None;
        if (context.Database.CurrentTransaction is null) pending.Uncommitted = ChangedData.None;
    }

    void Forget(DbContext? context)
    {
        if (context is not null && _pending.TryGetValue(context, out var pending))
            pending.Saving = pending.Uncommitted = ChangedData.None;
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

        public async ValueTask DisposeAsync()
        {
            CurrentCoalesced.Value = outer;
            var changes = Changes;
            Changes = ChangedData.None;
            if (outer is not null) outer.Changes |= changes;
            else await owner.NotifyAsync(changes);
        }
    }

    async ValueTask CommittedAsync(DbContext? context)
    {
        if (context is null || !_pending.TryGetValue(context, out var pending)) return;
        // EF's own transaction around a save commits before SavedChanges runs: take both.
        var changes = pending.Uncommitted | pending.Saving;
        pending.Saving = pending.Uncommitted = ChangedData.None;
        if (CurrentCoalesced.Value is { } coalesced) coalesced.Changes |= changes;
        else await NotifyAsync(changes);
    }

    async ValueTask NotifyAsync(ChangedData changes)
    {
        if (changes == ChangedData.None) return;
        foreach (var listener in services.GetServices<ICommittedChangesListener>())
        {
            try
            {
                // The change is committed whatever the caller's token says: always tell the caches.
                await listener.OnCommittedAsync(changes, CancellationToken.None);
            }
            catch (Exception ex)
            {
                // The rows are saved; failing the caller now would report a save that did happen.
                LogListenerFailed(ex, listener.GetType().Name, changes);
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "{Listener} failed after a committed change to {Changes}; caches refresh on their own expiry")]
    partial void LogListenerFailed(Exception ex, string listener, ChangedData changes);
}
