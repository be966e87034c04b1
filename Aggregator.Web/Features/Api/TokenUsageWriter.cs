using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// Writes tokens' last-used times every few seconds, off the request path (one UPDATE per token used
/// since the last flush, whatever the number of requests), and once more at shutdown.
/// ExecuteUpdate bypasses the change tracker, so these writes never empty the token cache.
/// </summary>
public sealed partial class TokenUsageWriter(ApiCallers callers, IDbContextFactory<AppDbContext> dbs, TimeProvider time, ILogger<TokenUsageWriter> log)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    readonly SemaphoreSlim _writing = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try { await FlushAsync(stoppingToken); }
                catch (Exception ex) when (ex is not OperationCanceledException) { LogFlushFailed(ex); }
            }
        }
        catch (OperationCanceledException) { }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try { await FlushAsync(cancellationToken); }
        catch (Exception ex) { LogFlushFailed(ex); }
    }

    /// <summary>Writes what is pending now (also for tests).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            var pending = callers.TakeLastUsed();
            if (pending.Count == 0) return;
            try
            {
                await using var db = await dbs.CreateDbContextAsync(cancellationToken);
                foreach (var (id, at) in pending)
                    await db.ApiTokens.Where(t => t.Id == id && (t.LastUsedAt == null || t.LastUsedAt < at))
                        .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, at), cancellationToken);
            }
            catch
            {
                callers.ReturnLastUsed(pending);
                throw;
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    [LoggerMessage(LogLevel.Warning, "Writing API tokens' last-used times failed; retrying on the next flush")]
    partial void LogFlushFailed(Exception ex);
}
