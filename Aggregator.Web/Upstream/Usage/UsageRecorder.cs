using System.Threading.Channels;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>
/// Writes one <see cref="UsageRecord"/> per completion, in batches from a background loop, so a
/// stream's last event never waits on the database. Usage is what budgets and bills are made of, so
/// a batch the database refuses is kept and retried (backing off up to <see cref="MaxBackoff"/>)
/// until it is written, and whatever is queued at shutdown is written before the host stops.
/// Each row also moves its token's month-to-date total in <see cref="ITokenSpend"/> as it is queued.
/// Upstream errors (<see cref="RecordError"/>) travel the same way, and every batch adds itself to the daily sums
/// (<see cref="UsageDaily"/>) in the transaction that inserts its rows.
/// </summary>
public sealed partial class UsageRecorder(IDbContextFactory<AppDbContext> dbFactory, ITokenSpend spend, TimeProvider time, ILogger<UsageRecorder> log)
    : BackgroundService
{
    const int BatchSize = 200;
    static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    readonly Channel<UsageRecord> _queue = Channel.CreateUnbounded<UsageRecord>(new UnboundedChannelOptions { SingleReader = false });
    readonly Channel<UpstreamError> _errorQueue = Channel.CreateUnbounded<UpstreamError>(new UnboundedChannelOptions { SingleReader = false });
    readonly SemaphoreSlim _writing = new(1, 1);
    // Rows taken from the queue whose write failed: written first on the next attempt. Guarded by _writing.
    readonly List<UsageRecord> _batch = new(BatchSize);
    readonly List<UpstreamError> _errorBatch = new(BatchSize);
    int _unwritten; // _batch.Count, readable without the lock
    int _failedAttempts;

    /// <summary>Rows not yet in the database (queued, or in a batch waiting for a retry).</summary>
    public int Pending => _queue.Reader.Count + _errorQueue.Reader.Count + Volatile.Read(ref _unwritten);

    /// <summary>Failed writes since the last successful one.</summary>
    public int FailedAttempts => Volatile.Read(ref _failedAttempts);

    public void Record(UsageRecord record)
    {
        spend.Count(record);
        _queue.Writer.TryWrite(record); // unbounded: never refuses
    }

    /// <summary>Queues one failed attempt or failed request (see <see cref="UpstreamError"/>).</summary>
    public void RecordError(UpstreamError error)
    {
        _errorQueue.Writer.TryWrite(error);
        // Wake the loop, which waits on the usage queue.
        if (_queue.Reader.Count == 0) _wake.Release();
    }
    readonly SemaphoreSlim _wake = new(0);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = FirstBackoff;
        try
        {
            while (true)
            {
                if (await TryWriteAsync(stoppingToken))
                {
                    backoff = FirstBackoff;
                    using (var either = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
                    {
                        var usage = _queue.Reader.WaitToReadAsync(either.Token).AsTask();
                        var error = _wake.WaitAsync(either.Token);
                        await Task.WhenAny(usage, error);
                        either.Cancel();
                        stoppingToken.ThrowIfCancellationRequested();
                    }
                    // Let a batch gather: under load, one transaction per few rows cost more CPU than the requests did.
                    if (_queue.Reader.Count < BatchSize) await Task.Delay(BatchWindow, stoppingToken);
                }
                else
                {
                    await Task.Delay(backoff, time, stoppingToken);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    /// <summary>Stops the loop, then keeps trying to write what is left until the host's shutdown timeout.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        var backoff = TimeSpan.FromMilliseconds(100);
        try
        {
            while (!await TryWriteAsync(cancellationToken))
            {
                await Task.Delay(backoff, time, cancellationToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { }
        if (Pending > 0) LogLostAtShutdown(Pending);
    }

    /// <summary>Writes what is queued now; throws when the database refuses (the rows stay queued).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (!await TryWriteAsync(cancellationToken))
            throw new InvalidOperationException($"Could not write {Pending} usage records; they stay queued and are retried.");
    }

    /// <summary>Writes batches until the queue is empty (true), or until one fails (false; its rows are kept).</summary>
    async Task<bool> TryWriteAsync(CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            while (true)
            {
                while (_batch.Count < BatchSize && _queue.Reader.TryRead(out var record)) _batch.Add(record);
                while (_errorBatch.Count < BatchSize && _errorQueue.Reader.TryRead(out var error)) _errorBatch.Add(error);
                Volatile.Write(ref _unwritten, _batch.Count + _errorBatch.Count);
                if (_batch.Count == 0 && _errorBatch.Count == 0) return true;
                try
                {
                    // A failed insert may have left a generated id behind.
                    foreach (var record in _batch) record.Id = 0;
                    foreach (var error in _errorBatch) error.Id = 0;
                    await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                    await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                    await UsageRows.InsertAsync(db, _batch, cancellationToken);
                    await UsageRows.InsertAsync(db, _errorBatch, cancellationToken);
                    var (daily, by) = UsageDailyRows.Fold(_batch, _errorBatch);
                    await UsageRows.UpsertAddingAsync(db, daily, cancellationToken);
                    await UsageRows.UpsertAddingAsync(db, by, cancellationToken);
                    await transaction.CommitAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // Keep serving (usage is accounting, not the reply) and keep the rows for the next attempt.
                    var attempts = Interlocked.Increment(ref _failedAttempts);
                    LogWriteFailed(ex, _batch.Count + _errorBatch.Count, _queue.Reader.Count + _errorQueue.Reader.Count, attempts);
                    return false;
                }
                if (Volatile.Read(ref _failedAttempts) > 0) LogRecovered(_batch.Count + _errorBatch.Count, Interlocked.Exchange(ref _failedAttempts, 0));
                _batch.Clear();
                _errorBatch.Clear();
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    [LoggerMessage(LogLevel.Error, "Could not write {Count} usage records ({Queued} more queued, attempt {Attempt}); keeping them and retrying")]
    partial void LogWriteFailed(Exception ex, int count, int queued, int attempt);

    [LoggerMessage(LogLevel.Information, "Wrote {Count} usage records after {Attempts} failed attempts")]
    partial void LogRecovered(int count, int attempts);

    [LoggerMessage(LogLevel.Critical, "Shutting down with {Count} usage records the database would not take; they are lost")]
    partial void LogLostAtShutdown(int count);
}
