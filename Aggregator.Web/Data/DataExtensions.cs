using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Aggregator.Web.Data;

public static class DataExtensions
{
    /// <summary>
    /// PostgreSQL when <c>ConnectionStrings:Postgres</c> is set, otherwise the embedded default:
    /// a SQLite file in <c>Data:Folder</c> (default <c>App_Data</c> under the content root).
    /// </summary>
    public static WebApplicationBuilder AddData(this WebApplicationBuilder builder)
    {
        var postgres = builder.Configuration.GetConnectionString("Postgres");
        var storage = new StorageOptions(
            IsEmbedded: string.IsNullOrWhiteSpace(postgres),
            DataFolder: DataFolder(builder));
        builder.Services.AddSingleton(storage);

        if (storage.IsEmbedded)
        {
            Directory.CreateDirectory(storage.DataFolder);
            var file = Path.Combine(storage.DataFolder, "aggregator.db");
            builder.Services.AddAppDb<SqliteDbContext>(o => o.UseSqlite($"Data Source={file};Cache=Shared;Pooling=True"));
        }
        else
        {
            builder.Services.AddAppDb<PostgresDbContext>(o => o.UseNpgsql(postgres));
        }

        builder.Services.AddDataProtection()
            .SetApplicationName("Aggregator")
            .PersistKeysToDbContext<AppDbContext>();
        return builder;
    }

    static string DataFolder(WebApplicationBuilder builder)
    {
        var configured = builder.Configuration["Data:Folder"];
        return string.IsNullOrWhiteSpace(configured)
            ? Path.Combine(builder.Environment.ContentRootPath, "App_Data")
            : Path.GetFullPath(configured, builder.Environment.ContentRootPath);
    }

    static void AddAppDb<TContext>(this IServiceCollection services, Action<DbContextOptionsBuilder> configure)
        where TContext : AppDbContext
    {
        services.AddPooledDbContextFactory<TContext>(configure);
        services.AddSingleton<IDbContextFactory<AppDbContext>, AppDbContextFactory<TContext>>();
        services.AddScoped<AppDbContext>(sp => sp.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContext());
    }

    sealed class AppDbContextFactory<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<AppDbContext>
        where TContext : AppDbContext
    {
        public AppDbContext CreateDbContext() => inner.CreateDbContext();
    }

    /// <summary>Applies migrations before the app serves; an unreachable database stops start-up with a clear message.</summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        var storage = app.Services.GetRequiredService<StorageOptions>();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Aggregator.Startup");
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        log.LogInformation("Preparing the database ({Where}): creating it or applying migrations…",
            storage.IsEmbedded ? $"embedded SQLite in {storage.DataFolder}" : "PostgreSQL");
        try
        {
            await db.Database.MigrateAsync(app.Lifetime.ApplicationStopping);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException
                                       || ex.InnerException is NpgsqlException or System.Net.Sockets.SocketException)
        {
            var where = storage.IsEmbedded
                ? $"the embedded SQLite database in {storage.DataFolder}"
                : "the PostgreSQL database named by ConnectionStrings:Postgres";
            log.LogCritical(ex, "Cannot open {Database}: {Reason}", where, ex.Message);
            throw new StartupException($"Cannot open {where}: {ex.Message}", ex);
        }
        log.LogInformation("Database ready ({Mode})", storage.IsEmbedded ? "embedded SQLite" : "PostgreSQL");
    }
}

/// <summary>Where data lives: embedded (SQLite file + generated secrets key) or PostgreSQL.</summary>
public sealed record StorageOptions(bool IsEmbedded, string DataFolder);

/// <summary>A configuration or environment problem that must stop the app with a readable message.</summary>
public sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
