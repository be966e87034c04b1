using System.Security.Claims;
using Aggregator.Web.Data;

namespace Aggregator.Web.Features.Admin;

/// <summary>Who changed what, when. Adds to the caller's unit of work so the entry commits with the change.</summary>
public sealed class AuditLog(AppDbContext db, IHttpContextAccessor http)
{
    public void Record(string action, string entityType, object? entityId, string? details = null)
    {
        var user = http.HttpContext?.User;
        db.AuditLog.Add(new AuditEntry
        {
            At = DateTime.UtcNow,
            ActorId = user?.FindFirstValue(ClaimTypes.NameIdentifier),
            ActorName = user?.Identity?.Name ?? "system",
            Action = action,
            EntityType = entityType,
            EntityId = entityId?.ToString(),
            Details = details is { Length: > 4000 } ? details[..4000] : details,
        });
    }
}
