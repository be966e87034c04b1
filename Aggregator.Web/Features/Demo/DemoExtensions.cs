using Aggregator.MockUpstream;

namespace Aggregator.Web.Features.Demo;

/// <summary>Settings of demo mode (section <c>Demo</c>).</summary>
public sealed class DemoOptions
{
    public const string Section = "Demo";

    /// <summary>Serve the mock upstream and seed the "demo" provider. Default: on in Development, off elsewhere.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// The app's own address as the server itself can reach it (e.g. <c>http://127.0.0.1:5000</c>).
    /// Empty: taken from the addresses Kestrel listens on once it has started.
    /// </summary>
    public string? BaseUrl { get; set; }
}

/// <summary>
/// Demo mode: the mock upstream served by the app under <see cref="Path"/>, and a seeded "demo"
/// aggregator provider pointing at it, so a fresh install can sync and chat without any account anywhere.
/// </summary>
public static class DemoExtensions
{
    public const string Path = "/demo-upstream";
    public const string ProviderName = "demo";
    /// <summary>Where the demo provider's base URL points inside the mock.</summary>
    public const string UpstreamRoot = Path + "/openrouter/api/v1";

    public static WebApplicationBuilder AddDemo(this WebApplicationBuilder builder)
    {
        var enabled = builder.Configuration.GetValue<bool?>($"{DemoOptions.Section}:{nameof(DemoOptions.Enabled)}")
            ?? builder.Environment.IsDevelopment();
        builder.Services.AddOptions<DemoOptions>().BindConfiguration(DemoOptions.Section).Configure(o => o.Enabled = enabled);
        if (!enabled) return builder;

        // Gentle pacing so the UI visibly streams; overridable under Demo:MockUpstream.
        builder.Services.AddMockUpstream(o =>
        {
            o.TokensPerSecond = 40;
            o.FirstTokenDelay = TimeSpan.FromMilliseconds(300);
        });
        builder.Services.AddOptions<MockUpstreamOptions>().BindConfiguration($"{DemoOptions.Section}:MockUpstream");
        builder.Services.AddSingleton<DemoSeeder>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DemoSeeder>());
        return builder;
    }

    public static WebApplication MapDemo(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DemoOptions>>().Value.Enabled) return app;
        app.MapMockUpstream(Path)
            .AllowAnonymous()
            .DisableAntiforgery()
            .AddEndpointFilter<DemoKeyFilter>();
        return app;
    }
}
