using System.Collections.Concurrent;
using Aggregator.Web.Features.Chat;
using Microsoft.AspNetCore.SignalR.Client;

namespace Aggregator.Web.Tests.Chats; // not ".Chat": the mock tests call a helper named Chat()

/// <summary>A hub connection that records what the server pushes, for assertions.</summary>
public sealed class ChatConnection : IAsyncDisposable
{
    public HubConnection Hub { get; }
    public ConcurrentQueue<TokenDelta> Deltas { get; } = new();
    public ConcurrentQueue<RenderedSnapshot> Snapshots { get; } = new();
    public ConcurrentQueue<ConversationSummary> Changes { get; } = new();
    public ConcurrentQueue<AccountChangedEvent> AccountChanges { get; } = new();
    readonly ConcurrentDictionary<long, TaskCompletionSource<GenerationCompletedEvent>> completed = new();

    public ChatConnection(HubConnection hub)
    {
        Hub = hub;
        hub.On<TokenDelta>(nameof(IChatClient.Delta), d => Deltas.Enqueue(d));
        hub.On<RenderedSnapshot>(nameof(IChatClient.Snapshot), s => Snapshots.Enqueue(s));
        hub.On<GenerationCompletedEvent>(nameof(IChatClient.GenerationCompleted), c => Completion(c.MessageId).TrySetResult(c));
        hub.On<ConversationSummary>(nameof(IChatClient.ConversationChanged), c => Changes.Enqueue(c));
        hub.On<AccountChangedEvent>(nameof(IChatClient.AccountChanged), a => AccountChanges.Enqueue(a));
    }

    TaskCompletionSource<GenerationCompletedEvent> Completion(long messageId) =>
        completed.GetOrAdd(messageId, _ => new TaskCompletionSource<GenerationCompletedEvent>(TaskCreationOptions.RunContinuationsAsynchronously));

    public Task<GenerationCompletedEvent> CompletedAsync(long messageId) => Completion(messageId).Task.WaitAsync(TimeSpan.FromSeconds(30));

    public bool HasCompleted(long messageId) => Completion(messageId).Task.IsCompleted;

    public Task<SendResult> SendAsync(long modelId, string text, Guid? conversationId = null) =>
        Hub.InvokeAsync<SendResult>(nameof(ChatHub.Send), new SendRequest(conversationId, modelId, text));

    public List<TokenDelta> DeltasOf(long messageId) => Deltas.Where(d => d.MessageId == messageId).ToList();

    public async Task WaitForDeltasAsync(long messageId, int count)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DeltasOf(messageId).Count < count)
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"Only {DeltasOf(messageId).Count} of {count} deltas arrived");
            await Task.Delay(20);
        }
    }

    public ValueTask DisposeAsync() => Hub.DisposeAsync();
}
