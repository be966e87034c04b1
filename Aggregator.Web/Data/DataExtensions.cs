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
            var file = PrepareOwnerOnlyFolder(storage.DataFolder, "aggregator.db");
            // Private cache (no Cache=Shared: its table locks make a reader wait for a writer's whole transaction),
            // WAL journal (set in PrepareDatabaseAsync) so readers never wait for a writer, and a busy timeout
            // (Default Timeout, seconds) so a second writer waits its turn instead of failing at once.
            builder.Services.AddAppDb<SqliteDbContext>(o => o.UseSqlite($"Data Source={file};Pooling=True;Default Timeout=30"));
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

    const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// The data folder holds the database and the secrets key: a new one is created 0700 and the database
    /// file 0600 before SQLite opens it (SQLite gives its -wal/-shm files the database file's mode).
    /// </summary>
    static string PrepareOwnerOnlyFolder(string folder, string databaseName)
    {
        var database = Path.Combine(folder, databaseName);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            return database;
        }
        if (!Directory.Exists(folder)) Directory.CreateDirectory(folder, OwnerOnlyFolder);
        if (!File.Exists(database))
            new FileStream(database, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnlyFile }).Dispose();
        // Files left by an older version were created with the umask's mode: tighten them.
        foreach (var file in new[] { database, database + "-wal", database + "-shm", database + "-journal" })
            if (File.Exists(file)) File.SetUnixFileMode(file, OwnerOnlyFile);
        return database;
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
        services.AddSingleton<CommittedChangesInterceptor>();
        services.AddPooledDbContextFactory<TContext>((sp, options) =>
        {
            configure(options);
            options.AddInterceptors(sp.GetRequiredService<CommittedChangesInterceptor>());
        });
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
            // Stored in the file, so once is enough; readers then never wait for a writer (a sync, a chat reply).
            if (storage.IsEmbedded) await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", app.Lifetime.ApplicationStopping);
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
