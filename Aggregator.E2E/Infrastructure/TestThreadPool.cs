using System.Runtime.CompilerServices;

namespace Aggregator.E2E.Infrastructure;

/// <summary>
/// The test process hosts several apps at once (each with its timers, background loops and Redis clients) on a
/// two-core machine: starting with the runtime's minimum of one thread per core, a burst of blocking calls (a host's
/// synchronous dispose, SignalR's Redis UNSUBSCRIBE) waited for the pool to grow while their 2 s Redis timeouts ran out.
/// A production node serves one app; this only sizes the pool for the test process.
/// </summary>
static class TestThreadPool
{
    [ModuleInitializer]
    internal static void Grow()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));
    }
}
