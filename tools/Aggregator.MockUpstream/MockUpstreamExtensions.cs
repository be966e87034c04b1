namespace Aggregator.MockUpstream;

/// <summary>Placeholder: the mock upstream's endpoints land here (issue 3).</summary>
public static class MockUpstreamExtensions
{
}
