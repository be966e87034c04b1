using Aggregator.Web.Features.Api;
using Aggregator.Web.Upstream;

namespace Aggregator.Web.Tests.Api;

/// <summary>Tool-call deltas as OpenAI clients expect them, whatever shape the upstream sent.</summary>
public class StreamedToolCallsTests
{
    [Fact]
    public void A_call_opens_once_even_when_the_upstream_repeats_its_id_and_name_on_every_piece()
    {
        var calls = new StreamedToolCalls();
        Assert.Equal((new ToolCallDelta(0, "c1", "f", ""), new ToolCallDelta(0, null, null, "{\"a\"")), calls.Add(new ToolCallDelta(0, "c1", "f", "{\"a\"")));
        Assert.Equal((null, new ToolCallDelta(0, null, null, ":1}")), calls.Add(new ToolCallDelta(0, "c1", "f", ":1}")));
        Assert.Equal((null, null), calls.Add(new ToolCallDelta(0, "c1", "f", "")));
        Assert.Equal([new ToolCall("c1", "f", "{\"a\":1}")], calls.Assembled());
    }

    [Fact]
    public void A_call_without_an_id_gets_one_and_parallel_calls_stay_apart_in_index_order()
    {
        var calls = new StreamedToolCalls();
        calls.Add(new ToolCallDelta(1, null, "g", null));
        calls.Add(new ToolCallDelta(0, "c0", "f", "{}"));
        calls.Add(new ToolCallDelta(1, null, null, "{\"x\":2}"));
        var assembled = calls.Assembled();
        Assert.Equal(["c0", "f", "{}"], new[] { assembled[0].Id, assembled[0].Name, assembled[0].Arguments });
        Assert.StartsWith("call_", assembled[1].Id);
        Assert.Equal(("g", "{\"x\":2}"), (assembled[1].Name, assembled[1].Arguments));
    }

    [Theory]
    [InlineData(true, "stop", "tool_calls")]
    [InlineData(true, "length", "length")]
    [InlineData(false, "stop", "stop")]
    public void A_reply_that_called_tools_finishes_with_tool_calls(bool called, string upstream, string sent)
    {
        var calls = new StreamedToolCalls();
        if (called) calls.Add(new ToolCallDelta(0, "c", "f", "{}"));
        Assert.Equal(sent, calls.FinishReason(upstream));
    }
}
