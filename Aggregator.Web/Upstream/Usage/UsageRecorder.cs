using System.Threading.Channels;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>
/// Writes one <see cref="UsageRecord"/> per completion, in batches from a background loop, so a
/// stream's last event never waits on the database. <see cref="FlushAsync"/> writes what is queued now.
/// </summary>
public sealed class UsageRecorder(IDbContextFactory<AppDbContext> dbFactory, ILogger<UsageRecorder> log) : BackgroundService
{
    const int BatchSize = 200;
    static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(200);
    readonly Channel<UsageRecord> _queue = Channel.CreateUnbounded<UsageRecord>(new UnboundedChannelOptions { SingleReader = false });
    readonly SemaphoreSlim _writing = new(1, 1);

    public void Record(UsageRecord record) => _queue.Writer.TryWrite(record);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                // Let a batch gather: under load, one transaction per few rows cost more CPU than the requests did.
                if (_queue.Reader.Count < BatchSize) await Task.Delay(BatchWindow, stoppingToken);
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            var batch = new List<UsageRecord>();
            while (true)
            {
                batch.Clear();
                while (batch.Count < BatchSize && _queue.Reader.TryRead(out var record)) batch.Add(record);
                if (batch.Count == 0) return;
                try
                {
                    await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                    await UsageRows.InsertAsync(db, batch, cancellationToken);
                }
                catch (Exception ex) when (ex is DbUpdateException or System.Data.Common.DbException or InvalidOperationException or TimeoutException)
                {
                    // Usage is accounting, not the reply: log and keep serving rather than fail requests.
                    log.LogError(ex, "Could not write {Count} usage records", batch.Count);
                }
            }
        }
        finally
        {
            _writing.Release();
        }
    }
}
