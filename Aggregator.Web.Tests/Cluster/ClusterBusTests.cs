using Aggregator.Web.Cluster;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Cluster;

/// <summary>Two nodes in this process (separate containers, one database and Redis prefix): a publish on one is heard on both.</summary>
public sealed class ClusterBusTests : IAsyncLifetime
{
    readonly AppFactory _a = new();
    SecondNode _b = null!;

    public Task InitializeAsync()
    {
        _a.StartServer();
        _b = new SecondNode(_a);
        _b.StartServer();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _b.DisposeAsync();
        await _a.DisposeAsync();
    }

    [Fact]
    public async Task A_message_published_on_one_node_reaches_every_node_naming_the_sender()
    {
        var busA = _a.Services.GetRequiredService<IClusterBus>();
        var busB = _b.Services.GetRequiredService<IClusterBus>();
        Assert.NotEqual(busA.Node.Id, busB.Node.Id);
        var heardOnA = new TaskCompletionSource<ClusterMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        var heardOnB = new TaskCompletionSource<ClusterMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        busA.Subscribe("test", m => { heardOnA.TrySetResult(m); return Task.CompletedTask; });
        busB.Subscribe("test", m => { heardOnB.TrySetResult(m); return Task.CompletedTask; });
        // The subscription is made asynchronously by the Redis client: publish until B hears it.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!heardOnB.Task.IsCompleted && DateTime.UtcNow < deadline)
        {
            await busA.PublishAsync("test", "hello");
            await Task.WhenAny(heardOnB.Task, Task.Delay(100));
        }
        var onB = await heardOnB.Task.WaitAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(busA.Node.Id, onB.FromNode);
        Assert.Equal("hello", onB.Payload);
        Assert.Equal("hello", (await heardOnA.Task.WaitAsync(TimeSpan.FromSeconds(5))).Payload);
    }
}
