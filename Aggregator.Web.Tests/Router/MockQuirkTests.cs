using Aggregator.Web.Data;
using Aggregator.Web.Upstream;
using static Aggregator.Web.Tests.Router.RouterAppFactory;

namespace Aggregator.Web.Tests.Router;

/// <summary>Each quirk the mock can produce, through the whole router: the reply text must be the clean one.</summary>
public class MockQuirkTests(RouterAppFactory app) : IClassFixture<RouterAppFactory>
{
    const string Prompt = "Tell me about quirks";

    async Task<(RouterRun Clean, RouterRun Quirky, Seeded Seeded)> CompareAsync(string fault, ApiStandard standard, string model)
    {
        string clean = NewSecret("clean"), quirky = NewSecret("quirky");
        var cleanSeed = await app.SeedAsync([clean], standard, model);
        var quirkySeed = await app.SeedAsync([quirky], standard, model);
        app.Mock.State.SetKeyFault(quirky, fault);
        var reference = await app.Router.RunAsync(cleanSeed.Ask(Prompt));
        reference.AssertCompleted();
        return (reference, await app.Router.RunAsync(quirkySeed.Ask(Prompt)), quirkySeed);
    }

    [Theory]
    [InlineData("split")]
    [InlineData("comments")]
    [InlineData("crlf")]
    [InlineData("split,crlf,comments")]
    [InlineData("no_done")]
    [InlineData("empty_choices")]
    [InlineData("usage_last_only")]
    [InlineData("usage_on_finish")]
    [InlineData("numbers_as_strings")]
    [InlineData("slow:5")]
    public async Task OpenAI_quirk_gives_the_clean_reply(string fault)
    {
        var (clean, quirky, _) = await CompareAsync(fault, ApiStandard.OpenAI, "gpt-4o");
        quirky.AssertCompleted();
        Assert.Equal(clean.Text, quirky.Text);
        Assert.Equal("stop", quirky.Completed!.FinishReason);
        Assert.False(quirky.Completed.Usage.Estimated);
        Assert.Equal(clean.Completed!.Usage.CompletionTokens, quirky.Completed.Usage.CompletionTokens);
    }

    [Theory]
    [InlineData("split")]
    [InlineData("comments")]
    [InlineData("crlf")]
    [InlineData("split,crlf,comments")]
    [InlineData("no_done")]
    [InlineData("numbers_as_strings")]
    public async Task Anthropic_quirk_gives_the_clean_reply(string fault)
    {
        var (clean, quirky, _) = await CompareAsync(fault, ApiStandard.Anthropic, "claude-sonnet-4-5");
        quirky.AssertCompleted();
        Assert.Equal(clean.Text, quirky.Text);
        Assert.Equal("stop", quirky.Completed!.FinishReason);
        Assert.Equal(clean.Completed!.Usage, quirky.Completed.Usage);
    }

    [Fact]
    public async Task Reasoning_deltas_come_before_the_content()
    {
        var (clean, quirky, _) = await CompareAsync("reasoning", ApiStandard.OpenAI, "deepseek-reasoner");
        quirky.AssertCompleted();
        Assert.NotEmpty(quirky.Events.OfType<ReasoningDelta>());
        Assert.Equal(clean.Text, quirky.Text);
        Assert.True(quirky.Events.FindIndex(e => e is ReasoningDelta) < quirky.Events.FindIndex(e => e is ContentDelta));
    }

    [Theory]
    [InlineData(ApiStandard.OpenAI, "gpt-4o")]
    [InlineData(ApiStandard.Anthropic, "claude-sonnet-4-5")]
    public async Task Missing_usage_is_estimated_and_marked(ApiStandard standard, string model)
    {
        var (clean, quirky, _) = await CompareAsync("usage_missing", standard, model);
        quirky.AssertCompleted();
        Assert.Equal(clean.Text, quirky.Text);
        var usage = quirky.Completed!.Usage;
        Assert.True(usage.Estimated);
        Assert.True(usage.PromptTokens > 0 && usage.CompletionTokens > 0, $"estimate {usage}");
    }

    [Fact]
    public async Task OpenAI_stream_without_finish_reason_but_with_done_completes()
    {
        var (clean, quirky, _) = await CompareAsync("no_finish", ApiStandard.OpenAI, "gpt-4o");
        quirky.AssertCompleted();
        Assert.Equal(clean.Text, quirky.Text);
    }

    [Fact]
    public async Task Anthropic_stream_cut_before_message_delta_is_interrupted_with_the_text_kept()
    {
        var (clean, quirky, _) = await CompareAsync("no_finish", ApiStandard.Anthropic, "claude-sonnet-4-5");
        Assert.Equal(RouterError.Interrupted, quirky.RouterError.Error);
        Assert.Equal(clean.Text, quirky.Text);
    }

    [Theory]
    [InlineData("error_event", ApiStandard.OpenAI, "gpt-4o")]
    [InlineData("error_event_openrouter", ApiStandard.OpenAI, "gpt-4o")]
    [InlineData("error_event", ApiStandard.Anthropic, "claude-sonnet-4-5")]
    public async Task Mid_stream_error_events_interrupt_the_reply(string fault, ApiStandard standard, string model)
    {
        var (_, quirky, seeded) = await CompareAsync(fault + ",slow:10", standard, model);
        Assert.Equal(RouterError.Interrupted, quirky.RouterError.Error);
        Assert.NotEmpty(quirky.Events.OfType<ContentDelta>());
        Assert.Equal(1, app.Mock.State.CountFor(seeded.Secrets[0]));
    }

    [Theory]
    [InlineData("error_200", ApiStandard.OpenAI, "gpt-4o")]
    [InlineData("error_200_raw", ApiStandard.OpenAI, "gpt-4o")]
    [InlineData("error_200", ApiStandard.Anthropic, "claude-sonnet-4-5")]
    [InlineData("garbage", ApiStandard.OpenAI, "gpt-4o")]
    public async Task Errors_with_status_200_and_garbage_fail_clearly_when_no_key_works(string fault, ApiStandard standard, string model)
    {
        var (_, quirky, seeded) = await CompareAsync(fault, standard, model);
        var error = quirky.RouterError;
        Assert.Equal(RouterError.UpstreamFailed, error.Error);
        Assert.Empty(quirky.Events);
        Assert.Equal(1, app.Mock.State.CountFor(seeded.Secrets[0]));
        Assert.DoesNotContain(seeded.Secrets[0], error.Message);
    }

    [Fact]
    public async Task A_ten_megabyte_reply_streams_through()
    {
        var secret = NewSecret("huge");
        app.Mock.State.SetKeyFault(secret, "huge");
        var seeded = await app.SeedAsync([secret]);
        var run = await app.Router.RunAsync(seeded.Ask());
        run.AssertCompleted();
        Assert.True(run.Text.Length >= 10_000_000, $"{run.Text.Length} characters");
    }

    [Fact]
    public async Task An_endless_stream_is_cut_at_the_deadline()
    {
        var secret = NewSecret("endless");
        app.Mock.State.SetKeyFault(secret, "endless");
        var seeded = await app.SeedAsync([secret]);
        var request = seeded.Ask();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var run = await app.Router.RunAsync(request);
        Assert.Equal(RouterError.Interrupted, run.RouterError.Error);
        Assert.Contains("time limit", run.RouterError.Message);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(11), TimeSpan.FromSeconds(20)); // Router:StreamDeadline = 12 s
        await app.FlushAsync();
        var usage = Assert.Single(await app.UsageForAsync(request.UserId));
        Assert.True(usage.Estimated);
    }

    [Fact]
    public async Task Anthropic_and_OpenAI_give_the_same_deltas_for_the_same_reply()
    {
        var openai = await app.SeedAsync([NewSecret("o")], ApiStandard.OpenAI, "gpt-4o");
        var anthropic = await app.SeedAsync([NewSecret("a")], ApiStandard.Anthropic, "claude-sonnet-4-5");
        const string prompt = "mock:reply=Same **answer**, naïve 日本語 🚀 from both";
        var a = await app.Router.RunAsync(openai.Ask(prompt));
        var b = await app.Router.RunAsync(anthropic.Ask(prompt));
        a.AssertCompleted();
        b.AssertCompleted();
        static List<StreamEvent> Deltas(RouterRun run) => run.Events.Where(e => e is ContentDelta or ReasoningDelta or ToolCallDelta or FinishDelta).ToList();
        Assert.Equal(Deltas(a), Deltas(b));
        Assert.Equal("Same **answer**, naïve 日本語 🚀 from both", a.Text);
        Assert.Equal(a.Completed!.Usage.CompletionTokens, b.Completed!.Usage.CompletionTokens);
    }
}
