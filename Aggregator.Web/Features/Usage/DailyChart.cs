namespace Aggregator.Web.Features.Usage;

/// <summary>
/// A bar per UTC day, drawn by the server as SVG (no script; the CSP allows no inline styles, SVG attributes are not
/// styles). Hidden from screen readers: the per-day table beside it carries the same figures.
/// </summary>
public sealed record DailyChart(string Id, string Title, IReadOnlyList<(DateOnly Day, decimal Value, string Text)> Bars)
{
    public const int BarWidth = 10;
    public const int Height = 100;

    public decimal Max => Bars.Count == 0 ? 0 : Bars.Max(b => b.Value);

    /// <summary>The bar's height in the chart's units; a day with anything at all stays visible.</summary>
    public decimal HeightOf(decimal value) =>
        Max <= 0 || value <= 0 ? 0 : Math.Max(1m, Math.Round(value / Max * (Height - 4), 2));
}
