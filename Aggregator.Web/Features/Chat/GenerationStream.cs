using System.Globalization;
using Aggregator.Web.Cluster;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// The recent pushes of a live reply where other nodes can read them, so a client that reconnects to
/// a node that does not own the reply can still resume by sequence number. The owner always keeps its
/// own in-memory buffer (<see cref="Generation.Resume"/>); this is the copy for everyone else.
/// </summary>
public interface IGenerationStream
{
    /// <summary>Appends one push; never throws (a reply goes on when the copy cannot be written).</summary>
    Task AppendAsync(TokenDelta push);

    /// <summary>The reply ended: the copy is kept only a little longer.</summary>
    Task CompleteAsync(long messageId);

    /// <summary>The kept pushes after <paramref name="afterSeq"/>, oldest first, contiguous; null when there is no copy to read.</summary>
    Task<IReadOnlyList<TokenDelta>?> ReadAfterAsync(Guid conversationId, long messageId, int afterSeq, CancellationToken cancellationToken);
}

/// <summary>One node: the owner's buffer is the only copy, and there is no other node to read it.</summary>
public sealed class LocalGenerationStream : IGenerationStream
{
    public Task AppendAsync(TokenDelta push) => Task.CompletedTask;

    public Task CompleteAsync(long messageId) => Task.CompletedTask;

    public Task<IReadOnlyList<TokenDelta>?> ReadAfterAsync(Guid conversationId, long messageId, int afterSeq, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<TokenDelta>?>(null);
}

/// <summary>
/// A Redis stream per reply, <c>{prefix}gen:{messageId}</c>, entry id <c>{seq}-0</c> (so a range read by sequence
/// number is a plain XRANGE and a gap is visible), trimmed to about <see cref="ChatOptions.ResumeBufferDeltas"/>
/// entries. It expires on its own if the owner dies, and shortly after the reply ends.
/// </summary>
public sealed partial class RedisGenerationStream(RedisConnection redis, IOptions<ChatOptions> options, ILogger<RedisGenerationStream> log)
    : IGenerationStream
{
    static readonly TimeSpan LiveExpiry = TimeSpan.FromMinutes(10);
    static readonly TimeSpan EndedExpiry = TimeSpan.FromSeconds(60);
    // Refreshed now and then, not per push: one command per push is what the stream costs.
    const int ExpiryEvery = 256;

    RedisKey KeyOf(long messageId) => redis.Key("gen:" + messageId.ToString(CultureInfo.InvariantCulture));

    public async Task AppendAsync(TokenDelta push)
    {
        try
        {
            var key = KeyOf(push.MessageId);
            await redis.Database.StreamAddAsync(key, [new NameValueEntry("t", push.Text)], $"{push.Seq}-0",
                maxLength: options.Value.ResumeBufferDeltas, useApproximateMaxLength: true);
            if (push.Seq % ExpiryEvery == 1) await redis.Database.KeyExpireAsync(key, LiveExpiry);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogAppendFailed(push.MessageId, ex.GetType().Name);
        }
    }

    public async Task CompleteAsync(long messageId)
    {
        try { await redis.Database.KeyExpireAsync(KeyOf(messageId), EndedExpiry); }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException) { LogAppendFailed(messageId, ex.GetType().Name); }
    }

    public async Task<IReadOnlyList<TokenDelta>?> ReadAfterAsync(Guid conversationId, long messageId, int afterSeq, CancellationToken cancellationToken)
    {
        StreamEntry[] entries;
        try
        {
            entries = await redis.Database.StreamRangeAsync(KeyOf(messageId), $"{afterSeq + 1}-0", "+");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            return null;
        }
        // Only the contiguous run: a push that could not be appended (Redis briefly away) ends what can be replayed.
        var pushes = new List<TokenDelta>(entries.Length);
        foreach (var entry in entries)
        {
            var seq = int.Parse(((string)entry.Id!).Split('-')[0], CultureInfo.InvariantCulture);
            if (pushes.Count > 0 && seq != pushes[^1].Seq + 1) break;
            pushes.Add(new TokenDelta(conversationId, messageId, seq, (string?)entry["t"] ?? ""));
        }
        return pushes;
    }

    [LoggerMessage(LogLevel.Debug, "Could not copy generation {MessageId} to Redis ({Reason}); resuming it on another node falls back to the saved text")]
    partial void LogAppendFailed(long messageId, string reason);
}
