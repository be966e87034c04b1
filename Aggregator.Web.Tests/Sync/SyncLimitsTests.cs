using System.Diagnostics;
using System.Text;
using Aggregator.MockUpstream;
using Aggregator.Web.Data;
using Aggregator.Web.Tests.Infrastructure;
using Aggregator.Web.Upstream.Sync;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.Web.Tests.Sync;

/// <summary>The app on the embedded default (SQLite in Data:Folder, no Redis), as a new user runs it.</summary>
public sealed class EmbeddedSyncAppFactory : AppFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["ConnectionStrings:Postgres"] = "",
        ["ConnectionStrings:Redis"] = "",
        ["Sync:SchedulerEnabled"] = "false",
    };
}

/// <summary>Sync:MaxModels: a list past the cap fails clearly, touches nothing, and is never held whole in memory.</summary>
public sealed class SyncLimitsTests(SyncAppFactory app) : IClassFixture<SyncAppFactory>
{
    async Task<SyncResult> SyncAsync(int providerId)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<ModelSync>().SyncAsync(providerId, "test", CancellationToken.None);
    }

    [Fact]
    public async Task A_list_of_20001_models_fails_with_a_clear_error_and_leaves_stored_models_untouched()
    {
        await using var mock = await MockUpstreamServer.StartAsync(o => o.ModelCount = 378);
        var (provider, _) = await app.AddProviderAsync(mock.OpenAIUrl, ModelListShape.OpenAI);
        Assert.Equal(SyncOutcome.Succeeded, (await SyncAsync(provider.Id)).Outcome);
        var before = await app.RowVersionsAsync(provider.Id);

        mock.State.SetModelCount(20_001);
        var result = await SyncAsync(provider.Id);

        Assert.Equal(SyncOutcome.Failed, result.Outcome);
        Assert.Equal("The model list has 20,001 entries, more than the limit of 20,000 (Sync:MaxModels).", result.Run!.Error);
        Assert.Equal(before, await app.RowVersionsAsync(provider.Id));
        Assert.Equal(378, await app.AvailableModelsAsync(provider.Id));
    }

    [Fact]
    public async Task A_million_entry_list_is_refused_while_streaming_without_materialising_it()
    {
        await using var body = new GeneratedList(1_000_000);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();

        // The generated stream completes synchronously, so the whole parse runs on this thread and its allocations are counted.
        var ex = await Assert.ThrowsAsync<ModelListTooLargeException>(
            () => ModelListParser.ParseAsync(body, ModelListShape.Auto, 1_000_000m, maxModels: 20_000, earlierEntries: 0, CancellationToken.None));

        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.Equal("The model list has 1,000,000 entries, more than the limit of 20,000 (Sync:MaxModels).", ex.Message);
        Assert.True(allocated < 64L * 1024 * 1024, $"parsing allocated {allocated / (1024 * 1024)} MB; the list is {body.Length / (1024 * 1024)} MB");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task The_streamed_parse_reads_the_same_models_as_the_in_memory_one()
    {
        var json = """{"object":"list","data":[{"id":"a\u202E-1"},{"id":""},{"id":"b","owned_by":"x"}],"has_more":false}""";
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var inMemory = ModelListParser.Parse(doc.RootElement, ModelListShape.Auto);
        // Tiny reads split every token across buffers.
        await using var stream = new TrickleStream(Encoding.UTF8.GetBytes(json));
        var streamed = await ModelListParser.ParseAsync(stream, ModelListShape.Auto, 1_000_000m, 20_000, 0, CancellationToken.None);

        Assert.Equal(["a-1", "b"], streamed.Models.Select(m => m.ModelId));
        Assert.Equal(inMemory.Models, streamed.Models);
        Assert.Equal((1, 3), (streamed.Skipped, streamed.Entries));
    }

    /// <summary><c>{"data":[{"id":"model-000000"},…]}</c> of any length, produced as it is read without allocating.</summary>
    sealed class GeneratedList(int entries) : Stream
    {
        static readonly byte[] Head = "{\"object\":\"list\",\"data\":["u8.ToArray();
        static readonly byte[] Tail = "]}"u8.ToArray();
        readonly byte[] _entry = ",{\"id\":\"model-000000\"}"u8.ToArray();
        byte[] _pending = Head;
        int _offset;
        int _next;
        public override long Length => Head.Length + entries * 22L + Tail.Length;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override int Read(Span<byte> buffer)
        {
            var written = 0;
            while (written < buffer.Length)
            {
                if (_offset == _pending.Length && !NextChunk()) break;
                var n = Math.Min(buffer.Length - written, _pending.Length - _offset);
                _pending.AsSpan(_offset, n).CopyTo(buffer[written..]);
                _offset += n;
                written += n;
            }
            return written;
        }

        bool NextChunk()
        {
            if (_next > entries) return false;
            _offset = 0;
            if (_next == entries) _pending = Tail;
            else
            {
                for (int i = 19, n = _next; i >= 14; i--, n /= 10) _entry[i] = (byte)('0' + n % 10);
                _pending = _entry;
                if (_next == 0) _offset = 1; // the first entry has no comma
            }
            _next++;
            return true;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 3));
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 3)], cancellationToken);
    }
}

/// <summary>On the embedded SQLite default a big sync writes in batches: readers are never locked out meanwhile.</summary>
public sealed class EmbeddedSyncTests(EmbeddedSyncAppFactory app) : IClassFixture<EmbeddedSyncAppFactory>
{
    [Fact]
    public async Task While_a_20000_model_sync_writes_readers_answer_at_once()
    {
        await using var mock = await MockUpstreamServer.StartAsync(o => o.ModelCount = 20_000);
        var (provider, _) = await app.AddProviderAsync(mock.OpenAIUrl, ModelListShape.OpenAI);
        var sync = Task.Run(async () =>
        {
            using var scope = app.Services.CreateScope();
            return await scope.ServiceProvider.GetRequiredService<ModelSync>().SyncAsync(provider.Id, "test", CancellationToken.None);
        });

        var slowest = TimeSpan.Zero;
        var sawPartialList = false;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!sync.IsCompleted && DateTime.UtcNow < deadline)
        {
            var watch = Stopwatch.StartNew();
            var stored = await app.WithDbAsync(db => db.Models.CountAsync(m => m.ProviderId == provider.Id));
            watch.Stop();
            if (watch.Elapsed > slowest) slowest = watch.Elapsed;
            sawPartialList |= stored is > 0 and < 20_000;
        }

        var result = await sync;
        Assert.Equal(SyncOutcome.Succeeded, result.Outcome);
        Assert.Equal(20_000, await app.AvailableModelsAsync(provider.Id));
        Assert.True(sawPartialList, "a reader should see the batches land while the sync writes");
        Assert.True(slowest < TimeSpan.FromSeconds(1), $"the slowest read during the sync took {slowest.TotalMilliseconds:N0} ms");
        Assert.Equal("wal", await app.WithDbAsync(async db =>
        {
            var connection = db.Database.GetDbConnection();
            await connection.OpenAsync();
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA journal_mode";
            return (string?)await pragma.ExecuteScalarAsync();
        }));
    }
}
