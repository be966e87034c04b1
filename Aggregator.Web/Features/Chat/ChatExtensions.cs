using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;

namespace Aggregator.Web.Features.Chat;

public static class ChatExtensions
{
    public const string HubPath = "/hubs/chat";

    public static WebApplicationBuilder AddChat(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ChatOptions>().BindConfiguration("Chat").ValidateDataAnnotations().ValidateOnStart();
        services.AddHubOriginCheck();
        services.AddSingleton<MarkdownRenderer>();
        services.AddScoped<Conversations>();
        services.AddGenerations(clustered: !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Redis")));

        // Room for the longest allowed message even when JSON escapes every character.
        var maxChars = builder.Configuration.GetValue<int?>("Chat:MaxMessageChars") ?? new ChatOptions().MaxMessageChars;
        var signalR = services.AddSignalR(o =>
        {
            o.MaximumReceiveMessageSize = (long)maxChars * 6 + 64 * 1024;
            o.AddFilter<SessionHubFilter>(); // fresh tier, role and security stamp on every call
        });
        var redis = builder.Configuration.GetConnectionString("Redis");
        if (!string.IsNullOrWhiteSpace(redis))
        {
            // Several nodes: a delta produced on one reaches the user's connections on any other.
            var prefix = (builder.Configuration["Redis:InstanceName"] ?? "aggregator:") + "signalr";
            signalR.AddStackExchangeRedis(redis, o => o.Configuration.ChannelPrefix = RedisChannel.Literal(prefix));
        }
        return builder;
    }

    public static IEndpointRouteBuilder MapChat(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHub<ChatHub>(HubPath).RequireAllowedOrigin();
        return endpoints;
    }
}
