using System.Security.Cryptography;
using Aggregator.Web.Data;
using Aggregator.Web.Security;
using Aggregator.Web.Upstream.Sync;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Demo;

/// <summary>
/// Seeds, idempotently, the "demo" provider and its one key once the server listens, because the
/// provider's base URL is the app's own address and the port is only known then. Each start
/// re-points the base URL, so a changed port never leaves the demo provider dangling.
/// </summary>
public sealed partial class DemoSeeder(
    IServer server,
    IDbContextFactory<AppDbContext> dbFactory,
    SecretBox secrets,
    IOptions<DemoOptions> options,
    IServiceProvider services,
    ILogger<DemoSeeder> log) : IHostedLifecycleService
{
    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        var baseUrl = AppAddress() + DemoExtensions.UpstreamRoot;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var provider = await db.Providers.Include(p => p.Keys).FirstOrDefaultAsync(p => p.Name == DemoExtensions.ProviderName, cancellationToken);
        if (provider is { IsDemo: false })
        {
            LogNameTaken(DemoExtensions.ProviderName);
            return;
        }
        if (provider is null)
        {
            provider = new Provider
            {
                Name = DemoExtensions.ProviderName,
                DisplayName = "Demo",
                Kind = ProviderKind.Aggregator,
                ApiStandard = ApiStandard.OpenAI,
                ListShape = ModelListShape.OpenRouter,
                BaseUrl = baseUrl,
                IsDemo = true,
            };
            db.Providers.Add(provider);
        }
        provider.BaseUrl = baseUrl;
        if (!provider.Keys.Any(k => k.DeletedAt == null))
        {
            var secret = "sk-demo-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(20)).ToLowerInvariant();
            provider.Keys.Add(new ApiKey
            {
                Name = "Demo key",
                EncryptedSecret = secrets.Encrypt(secret),
                SecretFingerprint = secrets.Fingerprint(secret),
                MaskedHint = SecretBox.Mask(secret),
            });
        }
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another instance seeded it at the same moment; its row is as good as ours.
            return;
        }
        LogReady(baseUrl);
        if (provider.LastSyncedAt is null && provider.Enabled && services.GetService<SyncScheduler>() is { } scheduler)
        {
            LogSyncing();
            scheduler.Request(provider.Id, "demo");
        }
    }

    /// <summary>Configured <c>Demo:BaseUrl</c>, else the first address Kestrel listens on, wildcards made loopback.</summary>
    string AppAddress()
    {
        if (options.Value.BaseUrl is { Length: > 0 } configured) return configured.TrimEnd('/');
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var address = addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            ?? addresses.FirstOrDefault()
            ?? "http://localhost";
        var uri = new Uri(address.Replace("://+", "://0.0.0.0").Replace("://*", "://0.0.0.0"));
        var host = uri.Host is "0.0.0.0" or "[::]" or "::" ? "127.0.0.1" : uri.Host;
        return $"{uri.Scheme}://{(host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host)}:{uri.Port}";
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(LogLevel.Information, "Demo provider ready: upstream at {BaseUrl}")]
    partial void LogReady(string baseUrl);

    [LoggerMessage(LogLevel.Information, "Demo provider: syncing its model list in the background…")]
    partial void LogSyncing();

    [LoggerMessage(LogLevel.Warning, "Demo mode: a provider named {Name} exists and is not a demo provider; leaving it alone")]
    partial void LogNameTaken(string name);
}
