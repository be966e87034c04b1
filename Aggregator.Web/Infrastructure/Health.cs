using System.Text.Json;
using Aggregator.Web.Cluster;
using Aggregator.Web.Data;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aggregator.Web.Infrastructure;

/// <summary>
/// For a load balancer or an orchestrator, anonymous: <c>/health/live</c> (the process answers; no
/// dependency is asked, so a database outage never gets a node restarted) and <c>/health/ready</c>
/// (the database reachable with every migration applied; Redis reachable when configured — Degraded,
/// not Unhealthy, without it: chat keeps working on this node's local fallbacks). The JSON names each
/// check with a short description; never a connection string or an exception's text.
/// </summary>
public static class Health
{
    public const string PathPrefix = "/health";
    const string Ready = "ready";
    static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(3);

    public static WebApplicationBuilder AddHealth(this WebApplicationBuilder builder)
    {
        var checks = builder.Services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", HealthStatus.Unhealthy, [Ready], CheckTimeout);
        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Redis")))
            checks.AddCheck<RedisHealthCheck>("redis", HealthStatus.Degraded, [Ready], CheckTimeout);
        return builder;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks(PathPrefix + "/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .AllowAnonymous();
        endpoints.MapHealthChecks(PathPrefix + "/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = WriteAsync })
            .AllowAnonymous();
        return endpoints;
    }

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    static Task WriteAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json; charset=utf-8";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description ?? (e.Value.Exception is { } ex ? $"Failed ({ex.GetType().Name})" : null),
                durationMs = (int)e.Value.Duration.TotalMilliseconds,
            }),
        };
        return http.Response.WriteAsync(JsonSerializer.Serialize(body, Json), http.RequestAborted);
    }
}

/// <summary>The database answers and has every migration this build knows applied (a node ahead of the schema is not ready).</summary>
sealed class DatabaseHealthCheck(IDbContextFactory<AppDbContext> dbs, StorageOptions storage) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var name = storage.IsEmbedded ? "Embedded SQLite" : "PostgreSQL";
        try
        {
            await using var db = await dbs.CreateDbContextAsync(cancellationToken);
            if (!await db.Database.CanConnectAsync(cancellationToken))
                return new HealthCheckResult(context.Registration.FailureStatus, $"{name} unreachable");
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).Count();
            return pending == 0
                ? HealthCheckResult.Healthy($"{name} reachable, migrations applied")
                : new HealthCheckResult(context.Registration.FailureStatus, $"{name} reachable, {pending} migration(s) not applied");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"{name} unreachable ({ex.GetType().Name})");
        }
    }
}

/// <summary>Redis answers a PING on the app's shared connection.</summary>
sealed class RedisHealthCheck(RedisConnection redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.Database.PingAsync().WaitAsync(cancellationToken);
            return HealthCheckResult.Healthy($"Redis reachable ({latency.TotalMilliseconds:0} ms)");
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException or ObjectDisposedException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus,
                $"Redis unreachable ({ex.GetType().Name}): chat runs on this node's local fallbacks; other nodes' changes arrive when it returns");
        }
    }
}
