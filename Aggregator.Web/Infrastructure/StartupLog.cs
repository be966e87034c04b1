using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Aggregator.Web.Infrastructure;

/// <summary>What a first <c>dotnet run</c> is doing, on the console, under the category "Aggregator.Startup".</summary>
public static partial class StartupLog
{
    public const string Category = "Aggregator.Startup";

    /// <summary>Once Kestrel listens: the address to open, with wildcards made something a browser can reach.</summary>
    public static void LogWhereToOpen(this WebApplication app)
    {
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(Category);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            foreach (var address in addresses)
                LogOpen(log, address.Replace("://+", "://localhost").Replace("://*", "://localhost").Replace("://[::]", "://localhost").Replace("://0.0.0.0", "://localhost"));
        });
    }

    [LoggerMessage(LogLevel.Information, "Aggregator is ready. Open {Address}")]
    static partial void LogOpen(ILogger log, string address);
}
