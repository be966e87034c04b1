using Deque.AxeCore.Playwright;
using System.Runtime.CompilerServices;
using Microsoft.Playwright;

namespace Aggregator.E2E.Infrastructure;

/// <summary>
/// Base for browser journeys: a fresh context per test on the app's real address; on failure a
/// screenshot and the page HTML go to TestResults/e2e-artifacts/&lt;Class&gt;.&lt;test&gt;.png|html.
/// A Content-Security-Policy violation (inline script or style) fails the journey.
/// </summary>
public abstract class BrowserTest(BrowserFixture browser, KestrelApp app)
{
    protected const string Password = "Passw0rd!x";
    protected KestrelApp App => app;

    protected async Task InBrowserAsync(Func<IPage, Task> journey, BrowserNewContextOptions? options = null, [CallerMemberName] string test = "")
    {
        options ??= new BrowserNewContextOptions();
        options.BaseURL = app.BaseUrl.ToString();
        options.ViewportSize ??= new ViewportSize { Width = 1280, Height = 800 };
        await using var context = await browser.Browser.NewContextAsync(options);
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        var violations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
                violations.Add(message.Text);
        };
        page.PageError += (_, error) => violations.Add("Script error: " + error);
        try
        {
            await journey(page);
            Assert.True(violations.Count == 0, "Browser reported:\n" + string.Join("\n", violations));
        }
        catch
        {
            await SaveArtifactsAsync(page, $"{GetType().Name}.{test}");
            throw;
        }
    }

    /// <summary>An axe scan of the page as it is: no serious or critical violation.</summary>
    protected static async Task AssertNoSeriousViolationsAsync(IPage page)
    {
        var result = await page.RunAxe();
        var serious = result.Violations.Where(v => v.Impact is "serious" or "critical")
            .SelectMany(v => v.Nodes.Select(n => (Violation: v, Target: string.Join(" ", n.Target))))
            // The account menu belongs to the shared layout, reported by the layout's own scan.
            .Where(x => !(x.Violation.Id == "label-content-name-mismatch" && x.Target.Contains("user-menu")))
            .Select(x => $"{x.Violation.Id} ({x.Violation.Impact}): {x.Violation.Help} at {x.Target}")
            .ToList();
        Assert.True(serious.Count == 0, string.Join("\n", serious));
    }

    protected static async Task RegisterAsync(IPage page, string email, string password = Password)
    {
        await page.GotoAsync("/Account/Register");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByLabel("Confirm password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
    }

    protected static async Task LogOutAsync(IPage page)
    {
        await page.GetByTestId("user-menu").ClickAsync();
        await page.GetByTestId("logout").ClickAsync();
        await page.WaitForURLAsync("**/Account/Login");
    }

    static async Task SaveArtifactsAsync(IPage page, string name)
    {
        try
        {
            var folder = ArtifactsFolder();
            Directory.CreateDirectory(folder);
            var safe = string.Concat(name.Select(c => Path.GetInvalidFileNameChars().Contains(c) ? '_' : c));
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, safe + ".png"), FullPage = true });
            await File.WriteAllTextAsync(Path.Combine(folder, safe + ".html"), await page.ContentAsync());
        }
        catch (PlaywrightException)
        {
            // The page itself may be gone (crash, closed context); the original failure matters more.
        }
    }

    /// <summary>TestResults/e2e-artifacts at the repository root (AGG_E2E_ARTIFACTS overrides).</summary>
    public static string ArtifactsFolder()
    {
        if (Environment.GetEnvironmentVariable("AGG_E2E_ARTIFACTS") is { Length: > 0 } configured) return configured;
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Aggregator.sln"))) dir = dir.Parent;
        return Path.Combine(dir?.FullName ?? AppContext.BaseDirectory, "TestResults", "e2e-artifacts");
    }
}
