namespace Aggregator.Web.Cluster;

/// <summary>
/// This process among the app's nodes: a name unique per start (a restarted node is a new owner, so
/// leases it held before the restart are seen as another node's and expire like any other).
/// <c>Cluster:NodeName</c> sets the readable prefix (default: the machine name).
/// </summary>
public sealed record NodeIdentity(string Id)
{
    public static NodeIdentity Create(string? name) =>
        new($"{(string.IsNullOrWhiteSpace(name) ? Environment.MachineName : name.Trim())}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");

    public override string ToString() => Id;
}
