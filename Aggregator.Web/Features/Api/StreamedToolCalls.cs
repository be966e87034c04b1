using System.Text;
using Aggregator.Web.Upstream;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// The tool calls of one reply, as OpenAI presents them: each call opens once (id, name, arguments "")
/// and then grows by argument fragments, whatever the upstream repeated or left out; a call without an
/// id gets one. The same object assembles the whole calls for a non-streamed reply.
/// </summary>
public sealed class StreamedToolCalls
{
    sealed record Call(int Index, string Id, string Name, StringBuilder Arguments);

    readonly List<Call> _calls = [];

    public bool Any => _calls.Count > 0;

    /// <summary>
    /// What to send for <paramref name="delta"/>: the opening piece the first time its index is seen (id, name,
    /// arguments ""), and the argument text it carries as a separate fragment; either may be null.
    /// </summary>
    public (ToolCallDelta? Open, ToolCallDelta? Fragment) Add(ToolCallDelta delta)
    {
        var call = _calls.Find(c => c.Index == delta.Index);
        ToolCallDelta? open = null;
        if (call is null)
        {
            call = new Call(delta.Index, delta.Id ?? "call_" + Guid.NewGuid().ToString("N")[..24], delta.Name ?? "", new StringBuilder());
            _calls.Add(call);
            open = new ToolCallDelta(call.Index, call.Id, call.Name, "");
        }
        if (string.IsNullOrEmpty(delta.ArgumentsFragment)) return (open, null);
        call.Arguments.Append(delta.ArgumentsFragment);
        return (open, new ToolCallDelta(call.Index, null, null, delta.ArgumentsFragment));
    }

    public List<ToolCall> Assembled() => _calls.OrderBy(c => c.Index).Select(c => new ToolCall(c.Id, c.Name, c.Arguments.ToString())).ToList();

    /// <summary>Some upstreams end a tool-calling reply with "stop"; OpenAI clients look for "tool_calls".</summary>
    public string FinishReason(string reason) => Any && reason == "stop" ? "tool_calls" : reason;
}
