namespace Aggregator.Web.Cluster;

/// <summary>
/// Names the node that served a response (<c>X-Aggregator-Node</c>: the readable <c>Cluster:NodeName</c>,
/// not the per-start id), so an operator behind a load balancer, and the two-node tests, can see where a
/// request landed.
/// </summary>
public static class NodeHeader
{
    public const string Name = "X-Aggregator-Node";

    public static IApplicationBuilder UseNodeHeader(this WebApplication app)
    {
        var configured = app.Configuration["Cluster:NodeName"];
        var node = string.IsNullOrWhiteSpace(configured) ? Environment.MachineName : configured.Trim();
        return app.Use((context, next) =>
        {
            context.Response.Headers[Name] = node;
            return next(context);
        });
    }
}
