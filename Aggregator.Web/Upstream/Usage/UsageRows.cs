using System.Data.Common;
using System.Text;
using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Aggregator.Web.Upstream.Usage;

/// <summary>
/// Writes a batch of usage rows as one multi-row <c>INSERT</c>: atomic like SaveChanges, but without change tracking
/// and one command per row, which under load cost more CPU than the requests being recorded. Table, columns and
/// value conversions come from the EF model (each property's type mapping makes its parameter), so the statement
/// follows the migrations and is right for PostgreSQL and SQLite alike.
/// </summary>
internal static class UsageRows
{
    sealed record Column(string Name, RelationalTypeMapping Mapping, IClrPropertyGetter Value);

    public static async Task InsertAsync(AppDbContext db, IReadOnlyList<UsageRecord> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0) return;
        var sql = db.GetService<ISqlGenerationHelper>();
        var entity = db.Model.FindEntityType(typeof(UsageRecord)) ?? throw new InvalidOperationException("UsageRecord is not mapped.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        // Every stored column but the generated key.
        var columns = entity.GetProperties()
            .Where(p => !(p.IsPrimaryKey() && p.ValueGenerated != ValueGenerated.Never))
            .Select(p => new Column(p.GetColumnName(table)!, p.GetRelationalTypeMapping(), p.GetGetter()))
            .ToArray();

        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using DbCommand command = connection.CreateCommand();
            var text = new StringBuilder("INSERT INTO ").Append(sql.DelimitIdentifier(table.Name, table.Schema)).Append(" (")
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
