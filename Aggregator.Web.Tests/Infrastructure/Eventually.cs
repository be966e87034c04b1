namespace Aggregator.Web.Tests.Infrastructure;

/// <summary>Waits for a condition the product makes true in the background, with a deadline instead of a fixed sleep.</summary>
public static class Eventually
{
    public static async Task Until(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"Timed out waiting for {what}");
            await Task.Delay(10);
        }
    }

    public static async Task<T> Until<T>(Func<Task<T>> read, Func<T, bool> condition, string what, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var value = await read();
            if (condition(value)) return value;
            if (DateTime.UtcNow > until) throw new TimeoutException($"Timed out waiting for {what}");
            await Task.Delay(10);
        }
    }
}
