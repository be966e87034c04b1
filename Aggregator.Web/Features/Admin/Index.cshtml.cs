using System.Text.Json;
using Aggregator.Web.Features.Admin.Dashboard;
using Aggregator.Web.Upstream.Keys;
using Aggregator.Web.Upstream.Sync;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Aggregator.Web.Features.Admin;

/// <summary>/Admin: the dashboard. Every filter is in the query string, so a view is a link; ?handler=csv exports its rows.</summary>
public sealed class IndexModel(DashboardQueries queries, UsageCsv csv, IApiKeyPool pool, IOptions<SyncOptions> sync, TimeProvider time) : PageModel
{
    public const int TopCount = 10;
    const int LiveCount = 20;

    [BindProperty(SupportsGet = true)] public string? Period { get; set; }
    [BindProperty(SupportsGet = true)] public DateOnly? From { get; set; }
    [BindProperty(SupportsGet = true)] public DateOnly? To { get; set; }
    [BindProperty(SupportsGet = true, Name = "provider")] public int? ProviderId { get; set; }
    [BindProperty(SupportsGet = true, Name = "model")] public long? ModelId { get; set; }
    [BindProperty(SupportsGet = true, Name = "key")] public long? KeyId { get; set; }
    [BindProperty(SupportsGet = true, Name = "user")] public string? UserId { get; set; }

    public DashboardFilter Filter { get; private set; } = new();
    public DashboardRange Range { get; private set; } = null!;
    public string? FilterError { get; private set; }
    public IReadOnlyList<SeriesPoint> Series { get; private set; } = [];
    public UsageTotals Totals { get; private set; } = UsageTotals.Zero;
    public IReadOnlyList<TopRow> TopUsers { get; private set; } = [];
    public IReadOnlyList<TopRow> TopModels { get; private set; } = [];
    public IReadOnlyList<KeyRow> Keys { get; private set; } = [];
    public int LiveTotal { get; private set; }
    public IReadOnlyList<LiveGeneration> Live { get; private set; } = [];
    public IReadOnlyList<SyncStatus> Syncs { get; private set; } = [];
    public DashboardChoices Choices { get; private set; } = new([], [], [], []);
    public DateTime Now { get; private set; }

    /// <summary>The charts' data for dashboard.ts: one array per figure, aligned with the labels.</summary>
    public string ChartJson => JsonSerializer.Serialize(new
    {
        hourly = Range.Hourly,
        labels = Series.Select(p => p.Label),
        requests = Series.Select(p => p.Totals.Requests),
        errors = Series.Select(p => p.Totals.Errors),
        promptTokens = Series.Select(p => p.Totals.PromptTokens),
        completionTokens = Series.Select(p => p.Totals.CompletionTokens),
        cost = Series.Select(p => p.Totals.CostUsd),
    }, JsonSerializerOptions.Web);

    public string CsvUrl => Url.Page("/Admin/Index", "Csv", Filter.ToQuery())!;

    public async Task OnGetAsync(CancellationToken ct)
    {
        Resolve();
        Series = await queries.SeriesAsync(Filter, Range, ct);
        Totals = Series.Aggregate(UsageTotals.Zero, (sum, p) => sum + p.Totals);
        TopUsers = await queries.TopUsersAsync(Filter, Range, TopCount, ct);
        TopModels = await queries.TopModelsAsync(Filter, Range, TopCount, ct);
        Keys = await queries.KeysAsync(Filter, Range,
            id => pool.Describe(id) is { } k ? new KeyHealthNow(k.Active, k.CooldownUntil, k.DisabledReason) : null, ct);
        (LiveTotal, Live) = await queries.LiveGenerationsAsync(LiveCount, ct);
        Syncs = await queries.SyncStatusAsync(sync.Value.FailureBackoff, sync.Value.SchedulerEnabled, ct);
        Choices = await queries.ChoicesAsync(Filter, ct);
    }

    /// <summary>The usage rows of the view as CSV, streamed from the database as they are read.</summary>
    public async Task<IActionResult> OnGetCsvAsync(CancellationToken ct)
    {
        Resolve();
        if (FilterError is not null) return BadRequest(FilterError);
        Response.ContentType = "text/csv; charset=utf-8";
        Response.Headers.ContentDisposition = new System.Net.Mime.ContentDisposition { FileName = UsageCsv.FileName(Range), DispositionType = "attachment" }.ToString();
        Response.Headers.CacheControl = "no-store";
        await csv.WriteAsync(Filter, Range, Response.Body, ct);
        return new EmptyResult();
    }

    void Resolve()
    {
        Now = time.GetUtcNow().UtcDateTime;
        Filter = new DashboardFilter(Period is { Length: > 0 } p ? p : DashboardFilter.DefaultPeriod, From, To, ProviderId, ModelId, KeyId,
            string.IsNullOrWhiteSpace(UserId) ? null : UserId);
        (Range, FilterError) = Filter.Resolve(Now);
        if (FilterError is not null) Filter = Filter with { Period = DashboardFilter.DefaultPeriod };
    }
}
