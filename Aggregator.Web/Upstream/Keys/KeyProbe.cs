using Aggregator.Web.Cluster;
using Microsoft.Extensions.Options;
using Aggregator.Web.Upstream.Protocols;
using Aggregator.Web.Upstream.Routing;

namespace Aggregator.Web.Upstream.Keys;

/// <summary>
/// Re-tests keys in cooldown with a cheap authenticated call (the provider's model list) and returns
/// the ones that answer to the pool. Quota cooldowns are left to run out; disabled keys wait for an admin.
/// Runs on the cluster's leader only (<see cref="ILeaderLease"/>): one probe per key, not one per node.
/// </summary>
public sealed class KeyProbe(
    IApiKeyPool pool,
    RoutingTable table,
    ProviderClients clients,
    IHttpClientFactory httpFactory,
    IOptionsMonitor<KeyHealthOptions> options,
    TimeProvider time,
    ILeaderLease leader,
    ILogger<KeyProbe> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.CurrentValue.ProbeInterval, time, stoppingToken);
                if (leader.IsLeader) await ProbeNowAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception ex) { log.LogWarning(ex, "Probing keys in cooldown failed"); }
        }
    }

    /// <summary>Probes every key in cooldown once; returns how many came back.</summary>
    public async Task<int> ProbeNowAsync(CancellationToken cancellationToken = default)
    {
        var providers = table.Current.Providers;
        var returned = 0;
        foreach (var key in pool.KeysToProbe())
        {
            if (!providers.TryGetValue(key.ProviderId, out var provider) || !provider.Enabled) continue;
            var healthy = await ProbeAsync(provider, key, cancellationToken);
            await pool.ReportProbeAsync(key, healthy);
            if (healthy) returned++;
            log.LogInformation("Probe of API key {KeyId} ({Provider}): {Result}", key.KeyId, provider.Name, healthy ? "healthy, cooldown lifted" : "still failing");
        }
        return returned;
    }

    async Task<bool> ProbeAsync(ProviderRoute provider, KeyLease key, CancellationToken cancellationToken)
    {
        var result = await clients.For(provider.Standard).ProbeAsync(httpFactory.CreateClient(UpstreamConnector.HttpClientName),
            provider.BaseUrl, provider.ModelsUrl, key.Secret, key.Redactor, options.CurrentValue.ProbeTimeout, cancellationToken);
        return result.Ok;
    }
}
