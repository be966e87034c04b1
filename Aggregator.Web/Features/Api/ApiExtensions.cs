using Aggregator.Web.Cluster;
using Aggregator.Web.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics;

namespace Aggregator.Web.Features.Api;

/// <summary>
/// The OpenAI- and Anthropic-compatible API under <c>/v1</c>, authenticated by personal access tokens only (a
/// browser's session cookie is not accepted there, so no cross-site request can use it). Every answer is JSON,
/// errors in the caller's protocol (<see cref="CallerStandard"/>): no redirect, no HTML error page.
/// </summary>
public static partial class ApiExtensions
{
    const string Policy = "ApiToken";

    public static IServiceCollection AddApi(this IServiceCollection services)
    {
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(TokenAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(Policy, p => p.AddAuthenticationSchemes(TokenAuthenticationHandler.SchemeName).RequireAuthenticatedUser());
        services.AddSingleton<ApiCallers>();
        services.AddSingleton<ICommittedChangesListener>(sp => sp.GetRequiredService<ApiCallers>());
        services.AddSingleton<TokenUsageWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<TokenUsageWriter>());
        services.AddSharedState<ITokenRateLimits, TokenRateLimits, RedisTokenRateLimits>();
        services.AddOptions<FailedTokenThrottleOptions>().BindConfiguration(FailedTokenThrottleOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<FailedTokenThrottle>();
        services.AddSingleton<ApiAdmission>();
        services.AddSingleton<ApiCatalog>();
        return services;
    }

    public static IEndpointRouteBuilder MapApi(this IEndpointRouteBuilder app)
    {
        // Every /v1 endpoint maps on this group: it carries token auth, the error shape and admission
        // (budgets and the token's rate limit, for every POST), so no endpoint can bypass them.
        var v1 = app.MapGroup("/v1").RequireAuthorization(Policy).AddEndpointFilter(AsApiErrorsAsync).AddEndpointFilter(ApiAdmission.FilterAsync);
        v1.MapGet("/models", ModelList.ListAsync);
        v1.MapGet("/models/{**id}", ModelList.GetAsync);
        v1.MapPost("/chat/completions", ChatCompletions.HandleAsync);
        v1.MapPost("/messages", Messages.HandleAsync).WithMetadata(CallerStandard.Anthropic);
        app.Map("/v1/messages/{**rest}", (string? rest) => ApiError.NotFound($"There is no endpoint /v1/messages/{rest}."))
            .AllowAnonymous().WithMetadata(CallerStandard.Anthropic);
        v1.MapPost("/embeddings", Embeddings.HandleAsync);
        app.Map("/v1/{**rest}", (string? rest) => ApiError.NotFound($"There is no endpoint /v1/{rest}.")).AllowAnonymous();
        return app;
    }

    /// <summary>An <see cref="ApiException"/> becomes its error; anything unexpected a JSON 500.</summary>
    static async ValueTask<object?> AsApiErrorsAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.Features.Get<IStatusCodePagesFeature>() is { } pages) pages.Enabled = false;
        try
        {
            return await next(context);
        }
        catch (ApiException ex)
        {
            return ex.Error;
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty; // the caller went away
        }
        catch (Exception ex) when (!http.Response.HasStarted)
        {
            LogUnexpected(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ApiExtensions)), ex, http.Request.Path);
            return ApiError.Internal();
        }
    }

    [LoggerMessage(LogLevel.Error, "API request {Path} failed unexpectedly")]
    static partial void LogUnexpected(ILogger log, Exception ex, PathString path);
}
