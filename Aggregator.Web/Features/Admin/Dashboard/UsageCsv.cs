using System.Globalization;
using System.Text;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Admin.Dashboard;

/// <summary>
/// The usage rows behind a dashboard view as CSV (RFC 4180), written as they are read from the database: a million
/// rows cost the memory of one. The served requests come first, then the failed ones (outcome "failed"), so the
/// file's rows add up to the charts' requests. No secret is in it: keys by name and masked hint, never their secret.
/// </summary>
public sealed class UsageCsv(AppDbContext db, DashboardQueries queries)
{
    const int FlushEvery = 500;

    internal static readonly string[] Header =
    [
        "created_at_utc", "user_email", "user_id", "provider", "model", "key", "api_token_id", "source", "outcome",
        "error_class", "prompt_tokens", "completion_tokens", "reasoning_tokens", "cached_tokens", "estimated", "cost_usd",
        "time_to_first_token_ms", "duration_ms",
    ];

    public static string FileName(DashboardRange range) => $"usage-{range.Slug}.csv";

    public async Task WriteAsync(DashboardFilter filter, DashboardRange range, Stream body, CancellationToken ct)
    {
        await using var text = new StreamWriter(body, new UTF8Encoding(false), bufferSize: 32 * 1024, leaveOpen: true) { NewLine = "\r\n" };
        var line = new StringBuilder(256);
        await WriteAsync(text, line, ct, Header);
        var written = 0;

        var served =
            from u in queries.Rows(filter, range)
            join user in db.Users on u.UserId equals user.Id into users
            from user in users.DefaultIfEmpty()
            join provider in db.Providers on u.ProviderId equals provider.Id into providers
            from provider in providers.DefaultIfEmpty()
            join model in db.Models on u.ModelId equals model.Id into models
            from model in models.DefaultIfEmpty()
            join key in db.ApiKeys on u.ApiKeyId equals key.Id into keys
            from key in keys.DefaultIfEmpty()
            orderby u.CreatedAt, u.Id
            select new
            {
                u.CreatedAt, Email = user.Email, u.UserId, Provider = provider.Name, Model = model.ModelId, Key = key.Name, KeyHint = key.MaskedHint,
                u.ApiTokenId, u.Source, u.Outcome, u.PromptTokens, u.CompletionTokens, u.ReasoningTokens, u.CachedTokens, u.Estimated, u.CostUsd,
                u.TimeToFirstTokenMs, u.DurationMs,
            };
        await foreach (var r in served.AsAsyncEnumerable().WithCancellation(ct))
        {
            await WriteAsync(text, line, ct,
                Time(r.CreatedAt), r.Email, r.UserId, r.Provider, r.Model, KeyLabel(r.Key, r.KeyHint), Number(r.ApiTokenId), r.Source,
                r.Outcome.ToString().ToLowerInvariant(), null, Number(r.PromptTokens), Number(r.CompletionTokens), Number(r.ReasoningTokens),
                Number(r.CachedTokens), r.Estimated ? "true" : "false", r.CostUsd?.ToString("0.##########", CultureInfo.InvariantCulture),
                Number(r.TimeToFirstTokenMs), Number(r.DurationMs));
            if (++written % FlushEvery == 0) await text.FlushAsync(ct);
        }

        // Failed requests as UsageDaily counts them: the ones with a user (attempt rows are not requests).
        var failed =
            from e in queries.Errors(filter, range, requestFailed: true).Where(e => e.UserId != null)
            join user in db.Users on e.UserId equals user.Id into users
            from user in users.DefaultIfEmpty()
            join provider in db.Providers on e.ProviderId equals provider.Id into providers
            from provider in providers.DefaultIfEmpty()
            join model in db.Models on e.ModelId equals model.Id into models
            from model in models.DefaultIfEmpty()
            join key in db.ApiKeys on e.ApiKeyId equals key.Id into keys
            from key in keys.DefaultIfEmpty()
            orderby e.CreatedAt, e.Id
            select new
            {
                e.CreatedAt, Email = user.Email, e.UserId, Provider = provider.Name, Model = model.ModelId, Key = key.Name, KeyHint = key.MaskedHint,
                e.ApiTokenId, e.Source, e.ErrorClass,
            };
        await foreach (var r in failed.AsAsyncEnumerable().WithCancellation(ct))
        {
            await WriteAsync(text, line, ct,
                Time(r.CreatedAt), r.Email, r.UserId, r.Provider, r.Model, KeyLabel(r.Key, r.KeyHint), Number(r.ApiTokenId), r.Source,
                "failed", r.ErrorClass, "0", "0", "0", "0", "false", null, null, null);
            if (++written % FlushEvery == 0) await text.FlushAsync(ct);
        }
        await text.FlushAsync(ct);
    }

    static string Time(DateTime at) => DateTime.SpecifyKind(at, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
    static string? Number(long? n) => n?.ToString(CultureInfo.InvariantCulture);
    static string? KeyLabel(string? name, string? hint) => name is null ? null : $"{name} ({hint})";

    static async Task WriteAsync(StreamWriter text, StringBuilder line, CancellationToken ct, params string?[] cells)
    {
        line.Clear();
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0) line.Append(',');
            AppendCell(line, cells[i]);
        }
        await text.WriteLineAsync(line, ct);
    }

    /// <summary>
    /// One RFC 4180 field. A cell a spreadsheet would run as a formula (starting = + - @, or a tab or carriage return
    /// that some strip first) gets a leading apostrophe: user e-mails and model ids come from outside.
    /// </summary>
    internal static void AppendCell(StringBuilder line, string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        var guarded = value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + value : value;
        if (guarded.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            line.Append(guarded);
            return;
        }
        line.Append('"').Append(guarded.Replace("\"", "\"\"")).Append('"');
    }
}
