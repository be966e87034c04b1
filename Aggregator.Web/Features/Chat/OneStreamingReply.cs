using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Aggregator.Web.Features.Chat;

/// <summary>
/// The database's guarantee of one streaming reply per conversation, cluster-wide: the partial unique
/// index <c>IX_Messages_OneStreamingPerConversation</c> (on ConversationId where Status = Streaming).
/// </summary>
static class OneStreamingReply
{
    const string Index = "IX_Messages_OneStreamingPerConversation";

    /// <summary>Whether a save failed because the conversation already has a streaming reply.</summary>
    public static bool IsViolatedBy(DbUpdateException ex) => ex.InnerException switch
    {
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } pg => pg.ConstraintName == Index,
        // SQLite names the columns, not the index; ConversationId is unique on Messages only through it.
        SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 } sqlite => sqlite.Message.Contains("Messages.ConversationId", StringComparison.Ordinal),
        _ => false,
    };
}
