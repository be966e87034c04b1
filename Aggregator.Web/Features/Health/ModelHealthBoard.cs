using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Health;

/// <summary>
/// The current <see cref="HealthBoard"/> in memory: readers get it at once, and one older than
/// <see cref="HealthOptions.Refresh"/> is recomputed in the background (one query) while they keep getting the old one,
/// so the selector never waits on the database. Every node computes its own from the shared database, so all agree
/// within one refresh.
/// </summary>
public sealed partial class ModelHealthBoard(
    IDbContextFactory<AppDbContext> dbFactory,
    IOptionsMonitor<HealthOptions> options,
    TimeProvider time,
    ILogger<ModelHealthBoard> log)
{
    volatile HealthBoard _board = HealthBoard.Empty;
    readonly SemaphoreSlim _computing = new(1, 1);
    int _backgroundRefresh;

    /// <summary>The board to show: computed the first time it is asked for, refreshed behind the reader after that.</summary>
    public ValueTask<HealthBoard> GetAsync(CancellationToken cancellationToken)
    {
        var board = _board;
        if (ReferenceEquals(board, HealthBoard.Empty)) return new ValueTask<HealthBoard>(RefreshAsync(cancellationToken));
        if (time.GetUtcNow().UtcDateTime - board.At > options.CurrentValue.Refresh && Interlocked.CompareExchange(ref _backgroundRefresh, 1, 0) == 0)
        {
            _ = Task.Run(async () =>
            {
                try { await RefreshAsync(CancellationToken.None); }
                catch (Exception ex) { LogRefreshFailed(ex); }
                finally { Volatile.Write(ref _backgroundRefresh, 0); }
            }, CancellationToken.None);
        }
        return new ValueTask<HealthBoard>(board);
    }

    /// <summary>Computes the board now (the leader's keeper wants fresh figures before hiding anything).</summary>
    public async Task<HealthBoard> RefreshAsync(CancellationToken cancellationToken)
    {
        var asked = time.GetUtcNow().UtcDateTime;
        await _computing.WaitAsync(cancellationToken);
        try
        {
            if (_board.At >= asked) return _board; // computed while we waited
            var now = time.GetUtcNow().UtcDateTime;
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var models = await ModelHealthQuery.RunAsync(db, now, options.CurrentValue, cancellationToken);
            return _board = new HealthBoard(now, models);
        }
        finally
        {
            _computing.Release();
        }
    }

    [LoggerMessage(LogLevel.Warning, "Model health could not be recomputed; showing the previous figures")]
    partial void LogRefreshFailed(Exception ex);
}
