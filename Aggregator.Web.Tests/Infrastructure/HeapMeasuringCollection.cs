namespace Aggregator.Web.Tests.Infrastructure;

/// <summary>
/// Tests that sample the process's live heap (an export streams in bounded memory) run alone: with other classes
/// running beside them, their heaps were counted too (58 MB "held" by a CSV export that holds a few hundred rows).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasuringCollection
{
    public const string Name = "Measures the live heap";
}
