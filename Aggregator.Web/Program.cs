using Aggregator.Web.Cluster;
using Aggregator.Web.Data;
using Aggregator.Web.Features.Account;
using Aggregator.Web.Features.Admin;
using Aggregator.Web.Features.Api;
using Aggregator.Web.Features.Attachments;
using Aggregator.Web.Features.Catalog;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Features.Demo;
using Aggregator.Web.Features.Health;
using Aggregator.Web.Features.Sharing;
using Aggregator.Web.Features.Telemetry;
using Aggregator.Web.Infrastructure;
using Aggregator.Web.Security;
using Aggregator.Web.Upstream;
using Aggregator.Web.Upstream.Sync;

try
{
    var builder = WebApplication.CreateBuilder(args);

    builder.AddData();        // PostgreSQL, or the embedded SQLite default
    builder.AddCaching();     // HybridCache, Redis L2 when configured
    builder.AddCluster();     // node identity, shared state in Redis when configured, the cluster bus
    builder.AddSecrets();     // encryption of provider API keys at rest
    builder.Services.AddHttpContextAccessor();
    builder.Services.AddProxyHeaders(builder.Configuration); // X-Forwarded-For/Proto from a trusted load balancer
    builder.Services.AddAccounts();
    builder.Services.AddAdmin();
    builder.Services.AddCatalog();
    builder.Services.AddModelHealth(); // live model health from our own traffic; the leader hides, restores and probes
    builder.Services.AddModelSync();
    builder.Services.AddUpstream();    // router: key pool, failover, adapters, usage, quotas
    builder.AddChat();        // conversations, SignalR hub, generations
    builder.Services.AddSharing(); // export, ChatGPT import, share links, pins/archive/folders
    builder.Services.AddAttachments(); // files on questions: upload, store, prompts, clean-up
    builder.Services.AddApi(); // OpenAI-compatible /v1 with personal access tokens
    builder.AddDemo();        // built-in mock upstream and a seeded demo provider (Demo:Enabled)
    builder.Services.AddResponseDelivery(); // compression of pages and JSON
    builder.AddTelemetry();   // OpenTelemetry metrics (Prometheus /metrics) and traces, trace ids in logs
    builder.AddHealth();      // /health/live, /health/ready (database and migrations, Redis when configured)
    // Run from a build's output in any environment (tests, a Production-mode `dotnet run`), static assets
    // include the build-time compressed files kept under obj/; published, this finds no manifest and does nothing.
    builder.WebHost.UseStaticWebAssets();
    builder.Services.AddRazorPages(o =>
    {
        o.RootDirectory = "/Features";
        o.Conventions.AuthorizeFolder("/").AuthorizeAdminPages();
        o.Conventions.AllowAnonymousToPage("/Shared/Error");
    });

    var app = builder.Build();

    await app.PrepareDatabaseAsync();
    await app.VerifySecretsKeyAsync();
    app.RevokeUnsealedKeys();  // key-ring keys from before encryption at rest
    await app.EnsureAdminRoleAsync();

    app.UseForwardedHeaders(); // first: everything after sees the client's scheme and address
    app.UseNodeHeader();       // X-Aggregator-Node: which node served
    if (!app.Environment.IsDevelopment())
    {
        app.UseExceptionHandler("/Error/500");
        app.UseHsts();
    }
    app.UseResponseDelivery();
    app.UseStatusCodePagesWithReExecute("/Error/{0}");
    app.UseSecurityHeaders();
    app.UseRouting();
    app.UseAuthentication();
    app.UseAuthorization();

    // wwwroot (with dist/ from the front-end build) as the build's manifest lists it: precompressed
    // (gzip; brotli too on publish), fingerprinted URLs cached as immutable, ETags on the plain ones.
    app.MapStaticAssets();
    app.MapHealth();
    app.MapTelemetry();        // /metrics: admin, scrape token or the metrics port
    app.MapDemo();
    app.MapRazorPages().WithStaticAssets(); // tag helpers write the fingerprinted URLs
    app.MapCatalog();
    app.MapModelHealth();
    app.MapChat();
    app.MapSharing();
    app.MapAttachments();
    app.MapApi();
    app.LogWhereToOpen();

    await app.RunAsync();
    return 0;
}
catch (StartupException ex)
{
    // A configuration problem: say which setting, exit non-zero, change nothing.
    await Console.Error.WriteLineAsync($"Aggregator cannot start: {ex.Message}");
    return 1;
}

public partial class Program;
