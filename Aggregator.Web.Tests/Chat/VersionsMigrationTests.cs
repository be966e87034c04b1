using Aggregator.Web.Data;
using Aggregator.Web.Features.Chat;
using Aggregator.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace Aggregator.Web.Tests.Chats; // not ".Chat": the mock tests call a helper named Chat()

/// <summary>
/// Conversations written before versions existed (rows in the schema of the migration before ChatTrees) become one
/// branch: each message follows the one before it in its own conversation.
/// </summary>
public sealed class VersionsMigrationTests
{
    [Fact]
    public async Task Conversations_from_before_chat_trees_become_one_branch_on_postgresql()
    {
        var database = "t_" + Guid.NewGuid().ToString("N")[..16];
        await using var admin = new NpgsqlConnection(TestServers.Postgres);
        await admin.OpenAsync();
        await new NpgsqlCommand($"CREATE DATABASE \"{database}\"", admin).ExecuteNonQueryAsync();
        try
        {
            var connection = new NpgsqlConnectionStringBuilder(TestServers.Postgres) { Database = database, Pooling = false }.ConnectionString;
            await using var db = new PostgresDbContext(new DbContextOptionsBuilder<PostgresDbContext>().UseNpgsql(connection).Options);
            await AssertOneBranchAfterMigratingAsync(db, "now()", "false", id => id.ToString());
        }
        finally
        {
            await new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", admin).ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public async Task Conversations_from_before_chat_trees_become_one_branch_on_sqlite()
    {
        var file = Path.Combine(Path.GetTempPath(), $"aggregator-trees-{Guid.NewGuid():N}.db");
        try
        {
            await using var db = new SqliteDbContext(new DbContextOptionsBuilder<SqliteDbContext>().UseSqlite($"Data Source={file};Pooling=False").Options);
            // EF Core stores a Guid on SQLite as upper-case text.
            await AssertOneBranchAfterMigratingAsync(db, "'2026-11-30 10:00:00'", "0", id => id.ToString().ToUpperInvariant());
        }
        finally
        {
            File.Delete(file);
        }
    }

    static async Task AssertOneBranchAfterMigratingAsync(AppDbContext db, string now, string no, Func<Guid, string> guid)
    {
        var migrations = db.Database.GetMigrations().ToList();
        var before = migrations[migrations.FindIndex(m => m.EndsWith("_ChatTrees", StringComparison.Ordinal)) - 1];
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync(before);

        // Two conversations written turn about (their ids interleave), one with a single message, as the old schema had them.
        var (a, b, c) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await RunAsync(db, $"""
            INSERT INTO "AspNetUsers" ("Id", "UserName", "NormalizedUserName", "Email", "NormalizedEmail", "EmailConfirmed", "PasswordHash", "SecurityStamp",
                "ConcurrencyStamp", "PhoneNumberConfirmed", "TwoFactorEnabled", "LockoutEnabled", "AccessFailedCount", "Tier", "CreatedAt")
            VALUES ('old-user', 'old@example.com', 'OLD@EXAMPLE.COM', 'old@example.com', 'OLD@EXAMPLE.COM', {no}, NULL, 'stamp', 'c', {no}, {no}, {no}, 0, 0, {now});
            INSERT INTO "Conversations" ("Id", "UserId", "Title", "TitleIsAutomatic", "CreatedAt", "UpdatedAt")
            VALUES ('{guid(a)}', 'old-user', 'A', {no}, {now}, {now}), ('{guid(b)}', 'old-user', 'B', {no}, {now}, {now}),
                   ('{guid(c)}', 'old-user', 'C', {no}, {now}, {now});
            """);
        foreach (var (conversation, role, text) in new[] // role 1: user, 2: assistant; status 0: complete
        {
            (a, 1, "a1"), (b, 1, "b1"), (a, 2, "a2"), (c, 1, "c1"), (b, 2, "b2"), (a, 1, "a3"), (a, 2, "a4"), (b, 1, "b3"),
        })
            await RunAsync(db, $"""
                INSERT INTO "Messages" ("ConversationId", "Role", "Content", "Status", "Seq", "TokensEstimated", "CreatedAt")
                VALUES ('{guid(conversation)}', {role}, '{text}', 0, 0, {no}, {now})
                """);

        await migrator.MigrateAsync();

        var rows = await db.Messages.AsNoTracking().ToDictionaryAsync(m => m.Content);
        long? Id(string text) => rows[text].Id;
        Assert.Equal(new Dictionary<string, long?>
        {
            ["a1"] = null, ["a2"] = Id("a1"), ["a3"] = Id("a2"), ["a4"] = Id("a3"),
            ["b1"] = null, ["b2"] = Id("b1"), ["b3"] = Id("b2"),
            ["c1"] = null,
        }, rows.ToDictionary(r => r.Key, r => r.Value.ParentId));

        // The page's branch is the whole conversation, in order.
        var conversations = new Conversations(db);
        var old = await db.Conversations.AsNoTracking().SingleAsync(x => x.Id == a);
        Assert.Null(old.CurrentLeafId);
        var branch = await conversations.BranchAsync(old, CancellationToken.None);
        Assert.Equal(["a1", "a2", "a3", "a4"], branch.Messages.Select(m => m.Content));
        Assert.All(branch.Messages, m => Assert.Single(branch.Tree.Versions(m.Id)));
    }

    /// <summary>SQL in the old schema, written by the test itself (no outside input).</summary>
    static Task<int> RunAsync(AppDbContext db, string sql) => db.Database.ExecuteSqlRawAsync(sql);
}
