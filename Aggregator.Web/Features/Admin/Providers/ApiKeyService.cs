using System.Diagnostics;
using Aggregator.Web.Data;
using Aggregator.Web.Security;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Sync;
using Microsoft.EntityFrameworkCore;
using Aggregator.Web.Upstream.Protocols;

namespace Aggregator.Web.Features.Admin.Providers;

public sealed record KeyTestResult(bool Ok, int? Status, long LatencyMs, string Message)
{
    /// <summary>The key as an admin knows it: its name and masked hint, e.g. <c>team key (sk-…abcd)</c>.</summary>
    public string Key { get; init; } = "";
}

/// <summary>Adds, tests, toggles and deletes keys of the pool; the page and tests share it.</summary>
public sealed class ApiKeyService(
    AppDbContext db, SecretBox secrets, AuditLog audit, SyncScheduler scheduler, IHttpClientFactory http, ProviderClients clients)
{
    public const string TestClientName = "key-test";

    /// <returns>An error to show, or null when the key was added (a first active key also queues a sync).</returns>
    public async Task<(ApiKey? Key, string? Error, bool SyncQueued)> AddAsync(int providerId, string name, string secret, CancellationToken ct)
    {
        secret = secret.Trim();
        if (secret.Length == 0) return (null, "Paste the API key.", false);
        if (secret.Length is < 8 or > 1024 || secret.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c > '~'))
            return (null, "That does not look like an API key: expected 8–1024 visible ASCII characters without spaces.", false);
        var provider = await db.Providers.FirstOrDefaultAsync(p => p.Id == providerId, ct);
        if (provider is null) return (null, "No such provider.", false);

        var fingerprint = secrets.Fingerprint(secret);
        if (await db.ApiKeys.AnyAsync(k => k.ProviderId == providerId && k.SecretFingerprint == fingerprint && k.DeletedAt == null, ct))
            return (null, $"This key is already in {provider.DisplayName}'s pool.", false);
        // A soft-deleted twin keeps the unique index busy: bring it back instead of inserting.
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.ProviderId == providerId && k.SecretFingerprint == fingerprint, ct);
        var hadActive = await db.ApiKeys.AnyAsync(k => k.ProviderId == providerId && k.Active && k.DeletedAt == null, ct);
        if (key is null)
        {
            key = new ApiKey
            {
                ProviderId = providerId,
                Name = string.IsNullOrWhiteSpace(name) ? $"Key {SecretBox.Mask(secret)}" : name.Trim(),
                EncryptedSecret = secrets.Encrypt(secret),
                SecretFingerprint = fingerprint,
                MaskedHint = SecretBox.Mask(secret),
            };
            db.ApiKeys.Add(key);
        }
        else
        {
            key.DeletedAt = null;
            key.Active = true;
            key.DisabledReason = null;
            key.Name = string.IsNullOrWhiteSpace(name) ? key.Name : name.Trim();
        }
        audit.Record("key.add", "api_key", key, $"{provider.DisplayName}: {key.Name} ({key.MaskedHint})");
        await db.SaveChangesAsync(ct);
        var queued = !hadActive && provider.Enabled && scheduler.Request(providerId, "key-added");
        return (key, null, queued);
    }

    public async Task<string?> SetActiveAsync(long keyId, bool active, CancellationToken ct)
    {
        var key = await db.ApiKeys.Include(k => k.Provider).FirstOrDefaultAsync(k => k.Id == keyId && k.DeletedAt == null, ct);
        if (key is null) return null;
        key.Active = active;
        if (active) { key.DisabledReason = null; key.DisabledAt = null; key.CooldownUntil = null; key.ConsecutiveFailures = 0; }
        else { key.DisabledReason = "Disabled by an admin"; key.DisabledAt = DateTime.UtcNow; }
        audit.Record(active ? "key.enable" : "key.disable", "api_key", key, $"{key.Provider!.DisplayName}: {key.Name} ({key.MaskedHint})");
        await db.SaveChangesAsync(ct);
        return $"{key.Name} is now {(active ? "active" : "disabled")}.";
    }

    public async Task<string?> DeleteAsync(long keyId, CancellationToken ct)
    {
        var key = await db.ApiKeys.Include(k => k.Provider).FirstOrDefaultAsync(k => k.Id == keyId && k.DeletedAt == null, ct);
        if (key is null) return null;
        key.DeletedAt = DateTime.UtcNow;
        key.Active = false;
        audit.Record("key.delete", "api_key", key, $"{key.Provider!.DisplayName}: {key.Name} ({key.MaskedHint})");
        await db.SaveChangesAsync(ct);
        return $"{key.Name} was deleted.";
    }

    /// <summary>A cheap real call with the key (the model list), timed.</summary>
    public async Task<KeyTestResult?> TestAsync(long keyId, CancellationToken ct)
    {
        var key = await db.ApiKeys.Include(k => k.Provider).AsNoTracking().FirstOrDefaultAsync(k => k.Id == keyId && k.DeletedAt == null, ct);
        if (key is null) return null;
        var provider = key.Provider!;
        var secret = secrets.Decrypt(key.EncryptedSecret);
        var watch = Stopwatch.StartNew();
        var probe = await clients.For(provider.ApiStandard).ProbeAsync(http.CreateClient(TestClientName),
            provider.BaseUrl, provider.ModelsUrl, secret, new SecretRedactor(secret), TimeSpan.FromSeconds(15), ct);
        var result = new KeyTestResult(probe.Ok, probe.Status, watch.ElapsedMilliseconds, probe.Message);
        audit.Record("key.test", "api_key", key.Id, $"{provider.DisplayName}: {key.Name} → {result.Message} in {result.LatencyMs} ms");
        await db.SaveChangesAsync(ct);
        return result with { Key = $"{key.Name} ({key.MaskedHint})" };
    }
}
