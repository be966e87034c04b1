namespace Aggregator.Web.Features.Chat;

/// <summary>
/// The shape of one conversation: every message with its parent, nothing else. Edits and regenerations
/// are siblings; the shown branch is the path from the root to a leaf. Built from a light query
/// (<see cref="Conversations.TreeAsync"/>) so only the messages on the branch are loaded whole.
/// </summary>
public sealed class ConversationTree
{
    readonly Dictionary<long, long?> parents = [];
    readonly Dictionary<long, List<long>> children = []; // key 0: the roots
    long newest;

    public ConversationTree(IEnumerable<(long Id, long? ParentId)> nodes)
    {
        foreach (var (id, parent) in nodes.OrderBy(n => n.Id))
        {
            parents[id] = parent;
            var key = parent ?? 0;
            if (!children.TryGetValue(key, out var list)) children[key] = list = [];
            list.Add(id);
            newest = Math.Max(newest, id);
        }
    }

    public bool IsEmpty => parents.Count == 0;
    public bool Contains(long id) => parents.ContainsKey(id);

    /// <summary>The leaf shown: the user's pick when it still exists, else the newest message (0 when empty).</summary>
    public long CurrentLeaf(long? picked) => picked is { } p && Contains(p) ? NewestUnder(p) : newest;

    /// <summary>The newest message at or below <paramref name="id"/>: where the view lands after switching to that version.</summary>
    public long NewestUnder(long id)
    {
        var best = id;
        var stack = new Stack<long>([id]);
        while (stack.TryPop(out var at))
        {
            best = Math.Max(best, at);
            if (children.TryGetValue(at, out var below)) foreach (var c in below) stack.Push(c);
        }
        return best;
    }

    /// <summary>Root first, ending at <paramref name="leaf"/>; empty when the leaf is not in this conversation.</summary>
    public IReadOnlyList<long> PathTo(long leaf)
    {
        var path = new List<long>();
        for (long? at = leaf; at is { } id && parents.TryGetValue(id, out var parent); at = parent) path.Add(id);
        path.Reverse();
        return path;
    }

    /// <summary>The versions of a message: itself and its siblings, oldest first.</summary>
    public IReadOnlyList<long> Versions(long id) =>
        parents.TryGetValue(id, out var parent) && children.TryGetValue(parent ?? 0, out var list) ? list : [];

    public long? ParentOf(long id) => parents.TryGetValue(id, out var p) ? p : null;

    public IReadOnlyList<long> ChildrenOf(long id) => children.TryGetValue(id, out var list) ? list : [];
}
