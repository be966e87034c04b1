using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Aggregator.MockUpstream;

/// <summary>One request the mock received, for tests to assert on.</summary>
public sealed record ReceivedRequest(
    string Path,
    string Method,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    string? ApiKey,
    DateTimeOffset At)
{
    /// <summary>The image parts of a chat request (every message, in order), as they reached the upstream.</summary>
    public IReadOnlyList<ReceivedImage> Images { get; init; } = [];

    readonly TaskCompletionSource<DateTimeOffset> _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes, with the time, when the client aborted the request before the mock had answered it all.</summary>
    public Task<DateTimeOffset> Cancelled => _cancelled.Task;

    internal void MarkCancelled() => _cancelled.TrySetResult(DateTimeOffset.UtcNow);
}

/// <summary>Runtime state of a mock: catalogue size and generation, per-key faults, and what was received.</summary>
public sealed class MockUpstreamState(IOptions<MockUpstreamOptions> options)
{
    readonly MockUpstreamOptions _options = options.Value;
    readonly ConcurrentDictionary<string, string> _keyFaults = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    readonly ConcurrentQueue<ReceivedRequest> _received = new();
    readonly Lock _catalogueLock = new();
    int _modelCount = Math.Clamp(options.Value.ModelCount, 1, MockCatalogue.MaxModels);
    int _generation;
    (int Count, int Generation, IReadOnlyList<MockModel> Models)? _catalogue;

    public MockUpstreamOptions Options => _options;

    public int ModelCount => Volatile.Read(ref _modelCount);

    /// <summary>How many mutations the catalogue has had; each adds, removes and changes a known number of models.</summary>
    public int CatalogueGeneration
    {
        get => Volatile.Read(ref _generation);
        set => Volatile.Write(ref _generation, Math.Max(0, value));
    }

    /// <summary>Moves the catalogue one generation on; returns the new generation.</summary>
    public int Mutate() => Interlocked.Increment(ref _generation);

    public void SetModelCount(int count) => Volatile.Write(ref _modelCount, Math.Clamp(count, 1, MockCatalogue.MaxModels));

    /// <summary>The models every root serves now (each root filters and shapes them).</summary>
    public IReadOnlyList<MockModel> Models
    {
        get
        {
            var (count, generation) = (ModelCount, CatalogueGeneration);
            lock (_catalogueLock)
            {
                if (_catalogue is { } cached && cached.Count == count && cached.Generation == generation)
                    return cached.Models;
                var models = MockCatalogue.Build(count, generation,
                    _options.AddedPerGeneration, _options.RemovedPerGeneration, _options.ChangedPerGeneration);
                _catalogue = (count, generation, models);
                return models;
            }
        }
    }

    readonly ConcurrentDictionary<string, byte[]> _lists = new(StringComparer.Ordinal);

    /// <summary>Rendered model lists, keyed by everything that shapes them (count and generation included).</summary>
    internal byte[] ListCache(string key, Func<byte[]> render)
    {
        if (_lists.TryGetValue(key, out var cached)) return cached;
        if (_lists.Count > 32) _lists.Clear();
        return _lists[key] = render();
    }

    public void SetKeyFault(string apiKey, string fault) => _keyFaults[apiKey] = fault;

    public void ClearKeyFault(string apiKey) => _keyFaults.TryRemove(apiKey, out _);

    internal string? KeyFault(string apiKey) => _keyFaults.GetValueOrDefault(apiKey);

    /// <summary>Requests received, oldest first (at most <see cref="MockUpstreamOptions.MaxRecorded"/>).</summary>
    public IReadOnlyList<ReceivedRequest> Received => [.. _received];

    /// <summary>How many requests arrived with this key (not limited by <see cref="MockUpstreamOptions.MaxRecorded"/>).</summary>
    public int CountFor(string apiKey) => _counts.GetValueOrDefault(apiKey);

    /// <summary>Forgets received requests and counts (not faults, size or generation).</summary>
    public void Clear()
    {
        _received.Clear();
        _counts.Clear();
    }

    internal void Record(ReceivedRequest request)
    {
        if (request.ApiKey is { } key) _counts.AddOrUpdate(key, 1, (_, n) => n + 1);
        if (_options.MaxRecorded <= 0) return;
        _received.Enqueue(request);
        while (_received.Count > _options.MaxRecorded && _received.TryDequeue(out _)) { }
    }
}
