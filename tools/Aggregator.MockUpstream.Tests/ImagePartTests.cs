using System.ClientModel;
using System.Net;
using System.Text.Json.Nodes;
using Aggregator.MockUpstream;
using OpenAI;
using OpenAI.Chat;
using static Aggregator.MockUpstream.Tests.MockCalls;

namespace Aggregator.MockUpstream.Tests;

public class ImagePartTests
{
    /// <summary>A 1×1 transparent PNG.</summary>
    static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");

    static JsonObject OpenAIImageBody(string url) => new()
    {
        ["model"] = "gpt-4o",
        ["messages"] = new JsonArray(new JsonObject
        {
            ["role"] = "user",
            ["content"] = new JsonArray(
                new JsonObject { ["type"] = "text", ["text"] = "What is this?" },
                new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = url } }),
        }),
    };

    static JsonObject AnthropicImageBody(params JsonNode[] blocks) => new()
    {
        ["model"] = "claude-sonnet-4-5",
        ["max_tokens"] = 100,
        ["messages"] = new JsonArray(new JsonObject
        {
            ["role"] = "user",
            ["content"] = new JsonArray([new JsonObject { ["type"] = "text", ["text"] = "What is this?" }, .. blocks]),
        }),
    };

    static JsonObject Base64Block(string mediaType, string data) => new()
    {
        ["type"] = "image", ["source"] = new JsonObject { ["type"] = "base64", ["media_type"] = mediaType, ["data"] = data },
    };

    [Fact]
    public async Task Official_OpenAI_client_image_parts_are_recorded_as_they_reached_the_upstream()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var client = new ChatClient("gpt-4o", new ApiKeyCredential(Key), new OpenAIClientOptions { Endpoint = new Uri(mock.OpenAIUrl) });

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage(
            ChatMessageContentPart.CreateTextPart("Describe these"),
            ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(Png), "image/png"),
            ChatMessageContentPart.CreateImagePart(new Uri("https://example.com/cat.jpg"), ChatImageDetailLevel.High))]);

        Assert.Contains("I see 2 image(s).", completion.Content[0].Text);
        var images = mock.State.Received.Single().Images;
        Assert.Equal(2, images.Count);
        Assert.Equal(new ReceivedImage("data_url", "image/png", Png.Length, null), images[0]);
        Assert.Equal(new ReceivedImage("url", null, null, "https://example.com/cat.jpg", "high"), images[1]);
    }

    [Theory]
    [InlineData("data:image/png;base64,@@not-base64@@")]
    [InlineData("data:image/png;base64,")]
    [InlineData("data:text/plain;base64,aGVsbG8=")]
    [InlineData("data:image/png,rawbytes")]
    [InlineData("ftp://example.com/cat.png")]
    public async Task A_broken_image_url_gets_OpenAIs_400_and_is_still_recorded(string url)
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(OpenAIRequest(mock.OpenAIUrl + "/chat/completions", OpenAIImageBody(url)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = json!["error"]!;
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Equal("invalid_value", (string?)error["code"]);
        Assert.Equal("messages[0].content[1].image_url.url", (string?)error["param"]);
        var image = Assert.Single(mock.State.Received.Single().Images);
        Assert.Null(image.Bytes);
    }

    [Fact]
    public async Task A_broken_data_url_through_OpenRouter_gets_its_error_shape()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var body = OpenAIImageBody("data:image/jpeg;base64,!!!");
        body["model"] = "openai/gpt-4o";
        var (response, json, _) = await SendAsync(OpenAIRequest(mock.OpenRouterUrl + "/chat/completions", body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(400, (int)json!["error"]!["code"]!);
        Assert.Contains("image_url.url", (string?)json["error"]!["message"]);
    }

    [Fact]
    public async Task Anthropic_image_blocks_are_recorded_including_those_inside_tool_results()
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var body = AnthropicImageBody(
            Base64Block("image/png", Convert.ToBase64String(Png)),
            new JsonObject { ["type"] = "image", ["source"] = new JsonObject { ["type"] = "url", ["url"] = "https://example.com/dog.webp" } });
        var (response, json, _) = await SendAsync(AnthropicRequest(mock.AnthropicUrl + "/messages", body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("I see 2 image(s).", (string?)json!["content"]![0]!["text"]);
        Assert.Equal(
            [new ReceivedImage("base64", "image/png", Png.Length, null), new ReceivedImage("url", null, null, "https://example.com/dog.webp")],
            mock.State.Received.Single().Images);

        var withResult = AnthropicImageBody();
        withResult["messages"]![0]!["content"]!.AsArray().Add(new JsonObject
        {
            ["type"] = "tool_result", ["tool_use_id"] = "toolu_x",
            ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "a screenshot" }, Base64Block("image/gif", Convert.ToBase64String([1, 2, 3]))),
        });
        var (resultResponse, _, _) = await SendAsync(AnthropicRequest(mock.AnthropicUrl + "/messages", withResult));
        Assert.Equal(HttpStatusCode.OK, resultResponse.StatusCode);
        Assert.Equal(new ReceivedImage("base64", "image/gif", 3, null), Assert.Single(mock.State.Received[^1].Images));
    }

    [Theory]
    [InlineData("image/png", "%%%", "messages.0.content.1.image.source.base64.data")]
    [InlineData("image/bmp", "AAAA", "messages.0.content.1.image.source.base64.media_type")]
    public async Task A_broken_Anthropic_image_gets_its_400(string mediaType, string data, string field)
    {
        await using var mock = await MockUpstreamServer.StartAsync();
        var (response, json, _) = await SendAsync(AnthropicRequest(mock.AnthropicUrl + "/messages", AnthropicImageBody(Base64Block(mediaType, data))));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("error", (string?)json!["type"]);
        Assert.Equal("invalid_request_error", (string?)json["error"]!["type"]);
        Assert.StartsWith(field + ":", (string?)json["error"]!["message"]);
        Assert.Single(mock.State.Received.Single().Images);
    }
}
