extern alias AnthropicSdk;
using System.Text;
using System.Text.Json;
using AnthropicSdk::Anthropic.Models.Messages;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Tests.Api;

/// <summary>
/// The official Anthropic .NET client against /v1/messages, each case once through an Anthropic-standard
/// upstream (the caller's body passes through) and once through an OpenAI-standard one (translated both ways).
/// </summary>
public sealed class AnthropicClientTests(MessagesTestApp app) : IClassFixture<MessagesTestApp>
{
    static readonly Tool Weather = new()
    {
        Name = "get_weather",
        Description = "The weather in a city",
        InputSchema = new InputSchema
        {
            Properties = new Dictionary<string, JsonElement>
            {
                ["city"] = JsonSerializer.SerializeToElement(new { type = "string" }),
                ["unit"] = JsonSerializer.SerializeToElement(new { @enum = new[] { "c", "f" } }),
            },
            Required = ["city"],
        },
    };

    static string Marker() => "m" + Guid.NewGuid().ToString("N")[..10];

    [Theory]
    [InlineData(MessagesTestApp.Native)]
    [InlineData(MessagesTestApp.Translated)]
    public async Task A_message_without_streaming_answers_with_text_usage_and_the_callers_model_id(string model)
    {
        var secret = await app.SecretAsync();
        var marker = Marker();
        var message = await app.Anthropic(secret).Messages.Create(new MessageCreateParams
        {
            Model = model, MaxTokens = 300,
            System = "Be brief.",
            Messages = [new UserMessageParam($"hello there {marker} mock:tokens=5")],
            Metadata = new Metadata { UserID = "caller-7" },
        });

        Assert.StartsWith("msg_", message.ID);
        Assert.Equal(model, message.Model.Raw());
        Assert.True(Assert.Single(message.Content).TryPickText(out var text));
        Assert.StartsWith("You said", text.Text);
        Assert.Equal("end_turn", message.StopReason?.Raw());
        Assert.Equal(5, message.Usage.OutputTokens);
        Assert.True(message.Usage.InputTokens > 0);

        // What reached the upstream: the body as sent (native), or OpenAI's translation of it.
        using var upstream = JsonDocument.Parse(app.Upstream(marker).Body);
        var root = upstream.RootElement;
        if (model == MessagesTestApp.Native)
        {
            Assert.Equal("claude-sonnet-4-5", root.GetProperty("model").GetString());
            Assert.Equal("Be brief.", root.GetProperty("system").GetString());
            Assert.Equal("caller-7", root.GetProperty("metadata").GetProperty("user_id").GetString());
        }
        else
        {
            Assert.Equal("gpt-4o-mini", root.GetProperty("model").GetString());
            var first = root.GetProperty("messages")[0];
            Assert.Equal("system", first.GetProperty("role").GetString());
            Assert.Equal("Be brief.", first.GetProperty("content").GetString());
            Assert.Equal("caller-7", root.GetProperty("user").GetString());
            Assert.Equal(300, root.GetProperty("max_tokens").GetInt32());
        }
    }

    [Theory]
    [InlineData(MessagesTestApp.Native)]
    [InlineData(MessagesTestApp.Translated)]
    public async Task A_streamed_message_is_message_start_a_text_block_message_delta_then_message_stop(string model)
    {
        var secret = await app.SecretAsync();
        var events = new List<RawMessageStreamEvent>();
        await foreach (var e in app.Anthropic(secret).Messages.CreateStreaming(new MessageCreateParams
                       {
                           Model = model, MaxTokens = 300, Messages = [new UserMessageParam("stream it mock:tokens=6")],
                       }))
            events.Add(e);

        Assert.True(events[0].TryPickStart(out var start));
        Assert.StartsWith("msg_", start.Message.ID);
        Assert.Equal(model, start.Message.Model.Raw());
        Assert.True(events[1].TryPickContentBlockStart(out var block));
        Assert.Equal(0, block.Index);
        Assert.True(block.ContentBlock.TryPickText(out _));
        var text = new StringBuilder();
        var deltas = 0;
        foreach (var e in events)
            if (e.TryPickContentBlockDelta(out var d) && d.Delta.TryPickText(out var t)) { text.Append(t.Text); deltas++; }
        Assert.StartsWith("You said", text.ToString());
        Assert.Equal(6, deltas);
        Assert.True(events[^3].TryPickContentBlockStop(out var stop));
        Assert.Equal(0, stop.Index);
        Assert.True(events[^2].TryPickDelta(out var final));
        Assert.Equal("end_turn", final.Delta.StopReason?.Raw());
        Assert.Equal(6, final.Usage.OutputTokens);
        Assert.True(final.Usage.InputTokens > 0);
        Assert.True(events[^1].TryPickStop(out _));
    }

    [Theory]
    [InlineData(MessagesTestApp.Native)]
    [InlineData(MessagesTestApp.Translated)]
    public async Task Reasoning_streams_as_a_thinking_block_before_the_text_block(string model)
    {
        var secret = await app.SecretAsync();
        var events = new List<RawMessageStreamEvent>();
        await foreach (var e in app.Anthropic(secret).Messages.CreateStreaming(new MessageCreateParams
                       {
                           Model = model, MaxTokens = 3000, Thinking = new ThinkingConfigEnabled(2048),
                           Messages = [new UserMessageParam("think first mock:fault=reasoning mock:tokens=4")],
                       }))
            events.Add(e);

        var starts = events.Select(e => e.TryPickContentBlockStart(out var s) ? s : null).OfType<RawContentBlockStartEvent>().ToList();
        Assert.Equal(2, starts.Count);
        Assert.True(starts[0].ContentBlock.TryPickThinking(out _));
        Assert.Equal(0, starts[0].Index);
        Assert.True(starts[1].ContentBlock.TryPickText(out _));
        Assert.Equal(1, starts[1].Index);
        var thinking = string.Concat(events.Select(e => e.TryPickContentBlockDelta(out var d) && d.Index == 0 && d.Delta.TryPickThinking(out var t) ? t.Thinking : ""));
        Assert.False(string.IsNullOrEmpty(thinking));
        var text = string.Concat(events.Select(e => e.TryPickContentBlockDelta(out var d) && d.Index == 1 && d.Delta.TryPickText(out var t) ? t.Text : ""));
        Assert.StartsWith("You said", text);
    }

    [Theory]
    [InlineData(MessagesTestApp.Native)]
    [InlineData(MessagesTestApp.Translated)]
    public async Task Tools_are_answered_with_a_tool_use_block_whose_input_is_an_object(string model)
    {
        var secret = await app.SecretAsync();
        var message = await app.Anthropic(secret).Messages.Create(new MessageCreateParams
        {
            Model = model, MaxTokens = 300, Tools = [Weather], ToolChoice = new ToolChoiceAuto(),
            Messages = [new UserMessageParam("What is the weather in Paris?")],
        });

        Assert.Equal("tool_use", message.StopReason?.Raw());
        Assert.True(Assert.Single(message.Content).TryPickToolUse(out var call));
        Assert.Equal("get_weather", call.Name);
        Assert.False(string.IsNullOrEmpty(call.ID));
        Assert.Equal("mock", call.Input["city"].GetString());
        Assert.Equal("c", call.Input["unit"].GetString());
    }

    [Theory]
    [InlineData(MessagesTestApp.Native)]
    [InlineData(MessagesTestApp.Translated)]
    public async Task A_streamed_tool_call_is_a_tool_use_block_with_input_json_deltas(string model)
    {
        var secret = await app.SecretAsync();
        var events = new List<RawMessageStreamEvent>();
        await foreach (var e in app.Anthropic(secret).Messages.CreateStreaming(new MessageCreateParams
                       {
                           Model = model, MaxTokens = 300, Tools = [Weather],
                           ToolChoice = new ToolChoiceTool("get_weather"),
                           Messages = [new UserMessageParam("Weather in Paris?")],
                       }))
            events.Add(e);

        var start = events.Select(e => e.TryPickContentBlockStart(out var s) ? s : null).Single(s => s is not null)!;
        Assert.True(start.ContentBlock.TryPickToolUse(out var call));
        Assert.Equal("get_weather", call.Name);
        Assert.False(string.IsNullOrEmpty(call.ID));
        var json = string.Concat(events.Select(e => e.TryPickContentBlockDelta(out var d) && d.Delta.TryPickInputJson(out var j) ? j.PartialJson : ""));
        using var input = JsonDocument.Parse(json);
        Assert.Equal("mock", input.RootElement.GetProperty("city").GetString());
        Assert.True(events[^2].TryPickDelta(out var final));
        Assert.Equal("tool_use", final.Delta.StopReason?.Raw());
        Assert.True(events[^1].TryPickStop(out _));
    }

    [Theory]
    [InlineData(MessagesTestApp.Native)]
    [InlineData(MessagesTestApp.Translated)]
    public async Task A_tool_result_round_trip_reaches_the_model_and_comes_back_as_text(string model)
    {
        var secret = await app.SecretAsync();
        var client = app.Anthropic(secret);
        var question = new UserMessageParam("What is the weather in Paris?");
        var first = await client.Messages.Create(new MessageCreateParams
        {
            Model = model, MaxTokens = 300, Tools = [Weather], Messages = [question],
        });
        Assert.True(Assert.Single(first.Content).TryPickToolUse(out var call));

        var marker = Marker();
        var answer = await client.Messages.Create(new MessageCreateParams
        {
            Model = model, MaxTokens = 300, Tools = [Weather],
            Messages =
            [
                question,
                new AssistantMessageParam(new List<ContentBlockParam>
                {
                    new ToolUseBlockParam { ID = call.ID, Name = call.Name, Input = call.Input },
                }),
                new UserMessageParam(new List<ContentBlockParam>
                {
                    new ToolResultBlockParam(call.ID) { Content = $"sunny and warm {marker}" },
                }),
            ],
        });

        Assert.Equal("end_turn", answer.StopReason?.Raw());
        Assert.True(Assert.Single(answer.Content).TryPickText(out var text));
        Assert.StartsWith($"The tool returned: \"sunny and warm {marker}", text.Text);
        if (model == MessagesTestApp.Translated)
        {
            using var upstream = JsonDocument.Parse(app.Upstream(marker).Body);
            var messages = upstream.RootElement.GetProperty("messages");
            var assistant = messages[1];
            Assert.Equal(call.ID, assistant.GetProperty("tool_calls")[0].GetProperty("id").GetString());
            Assert.Equal("get_weather", assistant.GetProperty("tool_calls")[0].GetProperty("function").GetProperty("name").GetString());
            Assert.Equal("tool", messages[2].GetProperty("role").GetString());
            Assert.Equal(call.ID, messages[2].GetProperty("tool_call_id").GetString());
        }
    }

    [Theory]
    [InlineData(MessagesTestApp.Native, "base64")]
    [InlineData(MessagesTestApp.Translated, "data_url")]
    public async Task Images_reach_the_upstream_inline_and_by_url(string model, string inlineKind)
    {
        var secret = await app.SecretAsync();
        var marker = Marker();
        var png = Convert.ToBase64String(Enumerable.Range(0, 64).Select(i => (byte)i).ToArray());
        var message = await app.Anthropic(secret).Messages.Create(new MessageCreateParams
        {
            Model = model, MaxTokens = 300,
            Messages =
            [
                new UserMessageParam(new List<ContentBlockParam>
                {
                    new ImageBlockParam(new Base64ImageSource { Data = png, MediaType = MediaType.ImagePng }),
                    new ImageBlockParam(new UrlImageSource { Url = "https://example.com/cat.jpg" }),
                    new TextBlockParam($"What do you see? {marker}"),
                }),
            ],
        });

        Assert.True(Assert.Single(message.Content).TryPickText(out var text));
        Assert.Contains("I see 2 image(s).", text.Text);
        var images = app.Upstream(marker).Images;
        Assert.Equal(2, images.Count);
        Assert.Equal(inlineKind, images[0].Kind);
        Assert.Equal("image/png", images[0].MediaType);
        Assert.Equal(64, images[0].Bytes);
        Assert.Equal("url", images[1].Kind);
        Assert.Equal("https://example.com/cat.jpg", images[1].Url);
    }

    [Fact]
    public async Task Usage_is_recorded_against_the_user_and_the_model_with_source_api()
    {
        await app.SecretAsync();
        var user = await app.UserAsync();
        var (secret, _) = await app.TokenAsync(user);
        await app.Anthropic(secret).Messages.Create(new MessageCreateParams
        {
            Model = MessagesTestApp.Translated, MaxTokens = 100, Messages = [new UserMessageParam("count me mock:tokens=3")],
        });

        var rows = await Infrastructure.Eventually.Until(
            () => app.QueryAsync(db => db.Usage.AsNoTracking().Where(u => u.UserId == user.UserId).ToListAsync()),
            r => r.Count > 0, "the usage row");
        var row = Assert.Single(rows);
        Assert.Equal("api", row.Source);
        Assert.Equal(app.FreeModelId, row.ModelId);
        Assert.Equal(3, row.CompletionTokens);
    }
}
