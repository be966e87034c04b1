using System.Data.Common;
using System.Text;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>
/// Writes a batch of rows as one multi-row <c>INSERT</c>: atomic like SaveChanges, but without change tracking
/// and one command per row, which under load cost more CPU than the requests being recorded. Table, columns and
/// value conversions come from the EF model (each property's type mapping makes its parameter), so the statement
/// follows the migrations and is right for PostgreSQL and SQLite alike. An upsert names the columns its conflict
/// adds to (<c>ON CONFLICT … DO UPDATE SET c = c + excluded.c</c>, the same text on both databases).
/// </summary>
internal static class UsageRows
{
    sealed record Column(string Name, RelationalTypeMapping Mapping, IClrPropertyGetter Value, bool Key);

    public static Task InsertAsync<T>(AppDbContext db, IReadOnlyList<T> rows, CancellationToken cancellationToken) where T : class =>
        WriteAsync(db, rows, upsert: false, cancellationToken);

    /// <summary>Inserts each row, or adds its non-key numeric columns to the row with the same primary key.</summary>
    public static Task UpsertAddingAsync<T>(AppDbContext db, IReadOnlyList<T> rows, CancellationToken cancellationToken) where T : class =>
        WriteAsync(db, rows, upsert: true, cancellationToken);

    static async Task WriteAsync<T>(AppDbContext db, IReadOnlyList<T> rows, bool upsert, CancellationToken cancellationToken) where T : class
    {
        if (rows.Count == 0) return;
        var sql = db.GetService<ISqlGenerationHelper>();
        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not mapped.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        // Every stored column but a generated key.
        var columns = entity.GetProperties()
            .Where(p => !(p.IsPrimaryKey() && p.ValueGenerated != ValueGenerated.Never))
            .Select(p => new Column(p.GetColumnName(table)!, p.GetRelationalTypeMapping(), p.GetGetter(), p.IsPrimaryKey()))
            .ToArray();
        var tableName = sql.DelimitIdentifier(table.Name, table.Schema);

        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using DbCommand command = connection.CreateCommand();
            var text = new StringBuilder("INSERT INTO ").Append(tableName).Append(" (")
                .AppendJoin(", ", columns.Select(c => sql.DelimitIdentifier(c.Name))).Append(") VALUES ");
            var n = 0;
            for (var r = 0; r < rows.Count; r++)
            {
                text.Append(r == 0 ? "(" : ", (");
                for (var c = 0; c < columns.Length; c++)
                {
                    var name = sql.GenerateParameterName("p" + n++);
                    text.Append(c == 0 ? "" : ", ").Append(name);
                    command.Parameters.Add(columns[c].Mapping.CreateParameter(command, name, columns[c].Value.GetClrValue(rows[r])));
                }
                text.Append(')');
            }
            if (upsert)
            {
                text.Append(" ON CONFLICT (").AppendJoin(", ", columns.Where(c => c.Key).Select(c => sql.DelimitIdentifier(c.Name)))
                    .Append(") DO UPDATE SET ")
                    .AppendJoin(", ", columns.Where(c => !c.Key).Select(c =>
                    {
                        var column = sql.DelimitIdentifier(c.Name);
                        return $"{column} = {tableName}.{column} + excluded.{column}";
                    }));
            }
            command.CommandText = text.ToString();
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
