using System.ComponentModel.DataAnnotations;

namespace Aggregator.MockUpstream;

/// <summary>Settings of one mock upstream; bound from the <c>MockUpstream</c> configuration section by the host.</summary>
public sealed class MockUpstreamOptions
{
    public const string Section = "MockUpstream";

    /// <summary>Size of the generated catalogue (same count → same models).</summary>
    [Range(1, MockCatalogue.MaxModels)]
    public int ModelCount { get; set; } = 378;

    /// <summary>Models each <see cref="MockUpstreamState.Mutate"/> adds.</summary>
    [Range(0, 1000)]
    public int AddedPerGeneration { get; set; } = 5;

    /// <summary>Models each mutation removes.</summary>
    [Range(0, 1000)]
    public int RemovedPerGeneration { get; set; } = 3;

    /// <summary>Models each mutation changes (context length, pricing or name).</summary>
    [Range(0, 1000)]
    public int ChangedPerGeneration { get; set; } = 4;

    /// <summary>Wait before the first token (streaming) or before the answer (non-streaming).</summary>
    public TimeSpan FirstTokenDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Streaming speed; 0 means as fast as possible.</summary>
    [Range(0, 1_000_000)]
    public double TokensPerSecond { get; set; }

    /// <summary>Content chunks (= completion tokens) in a reply.</summary>
    [Range(1, 1_000_000)]
    public int ReplyTokens { get; set; } = 60;

    /// <summary>Requests kept in <see cref="MockUpstreamState.Received"/>; older ones are dropped (counts are kept).</summary>
    [Range(0, 10_000_000)]
    public int MaxRecorded { get; set; } = 10_000;
}
