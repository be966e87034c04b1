using Aggregator.Web.Data;
using Aggregator.Web.Features.Telemetry;
using Microsoft.AspNetCore.SignalR;
using Aggregator.Web.Cluster;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
        services.AddScoped<ReplyPrompts>();
        services.AddScoped<ContextBudget>();
        services.AddScoped<ChatPresets>();
        services.AddScoped<ConversationVersions>();
        services.AddGenerations(clustered: !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Redis")));
        services.AddSingleton<ICommittedChangesListener, AccountChangedPush>();

        // Room for the longest allowed message even when JSON escapes every character.
        var maxChars = builder.Configuration.GetValue<int?>("Chat:MaxMessageChars") ?? new ChatOptions().MaxMessageChars;
        var signalR = services.AddSignalR(o =>
        {
            o.MaximumReceiveMessageSize = (long)maxChars * 6 + 64 * 1024;
            o.AddFilter<HubCallOutcomes>(); // first: refusals logged as one line, failures with a reference for the user
            o.AddFilter<SessionHubFilter>(); // fresh tier, role and security stamp on every call
        });
        var redis = builder.Configuration.GetConnectionString("Redis");
        if (!string.IsNullOrWhiteSpace(redis))
        {
            // Several nodes: a delta produced on one reaches the user's connections on any other; with Redis
            // down, this node's connections are still served (BackplaneFallback).
            var prefix = (builder.Configuration["Redis:InstanceName"] ?? "aggregator:") + "signalr";
            signalR.AddStackExchangeRedis(redis, o =>
            {
                RedisConnection.FailFast(o.Configuration);
                o.Configuration.ChannelPrefix = RedisChannel.Literal(prefix);
            });
            services.AddSingleton<BackplaneConnection>();
            services.AddOptions<RedisOptions>().Configure<BackplaneConnection>((o, connection) => o.ConnectionFactory = log => connection.ConnectAsync(o.Configuration, log));
            services.AddSingleton(typeof(RedisHubLifetimeManager<>));
            services.AddSingleton(typeof(DefaultHubLifetimeManager<>));
            services.Replace(ServiceDescriptor.Singleton(typeof(HubLifetimeManager<>), typeof(BackplaneFallback<>)));
        }
        return builder;
    }

    public static IEndpointRouteBuilder MapChat(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHub<ChatHub>(HubPath).RequireAllowedOrigin();
        return endpoints;
    }
}
