using Aggregator.Web.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Aggregator.Web.Upstream.Keys;

namespace Aggregator.Web.Tests.Router;

/// <summary>Router, key health and quota settings are validated when the app starts, not on the first request.</summary>
public class RouterOptionsTests
{
    sealed class MisconfiguredApp(Dictionary<string, string?> settings) : AppFactory
    {
        protected override IDictionary<string, string?> Settings => settings;
    }

    [Theory]
    [InlineData("Router:MaxAttempts", "0")]
    [InlineData("Router:BackoffMax", "00:00:00.001")]
    [InlineData("KeyHealth:FailuresBeforeCooldown", "0")]
    [InlineData("KeyHealth:MaxCooldown", "00:00:00.020")]
    [InlineData("Quotas:Free:RequestsPerMinute", "0")]
    public async Task Invalid_settings_stop_the_app_at_start(string key, string value)
    {
        await using var app = new MisconfiguredApp(new() { [key] = value });
        var ex = Assert.ThrowsAny<Exception>(() => app.Services);
        var validation = ex as OptionsValidationException ?? ex.InnerException as OptionsValidationException
            ?? (ex as AggregateException)?.InnerExceptions.OfType<OptionsValidationException>().FirstOrDefault();
        Assert.True(validation is not null, $"expected an options validation error, got {ex}");
    }
}
