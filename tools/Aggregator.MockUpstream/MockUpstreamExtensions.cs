using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Aggregator.MockUpstream;

/// <summary>Registers and maps the mock upstream (routes documented in README.md beside this file).</summary>
public static class MockUpstreamExtensions
{
    /// <summary>Registers <see cref="MockUpstreamState"/> (singleton) and its options.</summary>
    public static IServiceCollection AddMockUpstream(this IServiceCollection services, Action<MockUpstreamOptions>? configure = null)
    {
        var options = services.AddOptions<MockUpstreamOptions>().ValidateDataAnnotations().ValidateOnStart();
        if (configure is not null) options.Configure(configure);
        services.AddSingleton<MockUpstreamState>();
        return services;
    }

    /// <summary>Maps every mock route under <paramref name="prefix"/>; the returned group takes filters (e.g. demo auth).</summary>
    public static RouteGroupBuilder MapMockUpstream(this IEndpointRouteBuilder endpoints, string prefix = "")
    {
        var group = endpoints.MapGroup(prefix).ExcludeFromDescription();

        group.MapGet("/openai/v1/models", (HttpContext http, MockUpstreamState state) => ModelLists.HandleAsync(http, MockRoot.OpenAI, "openai", state));
        group.MapPost("/openai/v1/chat/completions", (HttpContext http, MockUpstreamState state) => OpenAIChat.HandleAsync(http, MockRoot.OpenAI, state));
        group.MapPost("/openai/v1/embeddings", (HttpContext http, MockUpstreamState state) => OpenAIEmbeddings.HandleAsync(http, MockRoot.OpenAI, state));

        group.MapGet("/openrouter/api/v1/models", (HttpContext http, MockUpstreamState state) => ModelLists.HandleAsync(http, MockRoot.OpenRouter, "openrouter", state));
        group.MapPost("/openrouter/api/v1/chat/completions", (HttpContext http, MockUpstreamState state) => OpenAIChat.HandleAsync(http, MockRoot.OpenRouter, state));
        group.MapPost("/openrouter/api/v1/embeddings", (HttpContext http, MockUpstreamState state) => OpenAIEmbeddings.HandleAsync(http, MockRoot.OpenRouter, state));

        group.MapGet("/aihubmix/v1/models", (HttpContext http, MockUpstreamState state) => ModelLists.HandleAsync(http, MockRoot.AiHubMix, "aihubmix-legacy", state));
        group.MapGet("/aihubmix/api/v1/models", (HttpContext http, MockUpstreamState state) => ModelLists.HandleAsync(http, MockRoot.AiHubMix, "aihubmix-rich", state));
        group.MapPost("/aihubmix/v1/chat/completions", (HttpContext http, MockUpstreamState state) => OpenAIChat.HandleAsync(http, MockRoot.AiHubMix, state));
        group.MapPost("/aihubmix/v1/embeddings", (HttpContext http, MockUpstreamState state) => OpenAIEmbeddings.HandleAsync(http, MockRoot.AiHubMix, state));

        group.MapGet("/anthropic/v1/models", (HttpContext http, MockUpstreamState state) => ModelLists.HandleAsync(http, MockRoot.Anthropic, "anthropic", state));
        group.MapPost("/anthropic/v1/messages", (HttpContext http, MockUpstreamState state) => AnthropicMessages.HandleAsync(http, state));

        group.MapPost("/_mock/mutate", (MockUpstreamState state) =>
        {
            state.Mutate();
            return Results.Json(Describe(state));
        });
        group.MapGet("/_mock/state", (MockUpstreamState state) => Results.Json(Describe(state)));
        return group;
    }

    static JsonObject Describe(MockUpstreamState state) => new()
    {
        ["model_count"] = state.ModelCount,
        ["generation"] = state.CatalogueGeneration,
        ["models"] = state.Models.Count,
        ["received"] = state.Received.Count,
    };
}
