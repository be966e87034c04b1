using System.Security.Claims;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Features.Admin;

/// <summary>
/// Who changed what, when. An entry joins the caller's unit of work: the handler's one
/// <c>SaveChangesAsync</c> commits the change and its entry together (or neither), and cache
/// invalidation follows the commit by itself (<see cref="CommittedChangesInterceptor"/>).
/// </summary>
public sealed class AuditLog(AppDbContext db, IHttpContextAccessor http)
{
    /// <param name="subject">The tracked entity the entry is about (a new one gets its id when saved), or its id, or null.</param>
    public AuditEntry Record(string action, string entityType, object? subject, string? details = null)
    {
        var user = http.HttpContext?.User;
        var entry = new AuditEntry
        {
            At = DateTime.UtcNow,
            ActorId = user?.FindFirstValue(ClaimTypes.NameIdentifier),
            ActorName = user?.Identity?.Name ?? "system",
            Action = action,
            EntityType = entityType,
            Details = details is { Length: > 4000 } ? details[..4000] : details,
        };
        switch (subject)
        {
            case null: break;
            case string or int or long or Guid: entry.EntityId = subject.ToString(); break;
            case var entity when db.Entry(entity).State == EntityState.Added: entry.Subject = entity; break;
            case var entity: entry.EntityId = db.KeyOf(entity); break;
        }
        db.AuditLog.Add(entry);
        return entry;
    }

    /// <summary>Takes back an entry whose change did not happen (nothing was saved yet).</summary>
    public void Discard(AuditEntry entry) => db.Entry(entry).State = EntityState.Detached;
}
