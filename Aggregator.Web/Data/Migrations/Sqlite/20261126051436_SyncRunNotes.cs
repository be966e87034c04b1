using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aggregator.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SyncRunNotes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Notes",
                table: "SyncRuns",
                type: "TEXT",
                maxLength: 2000,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Notes",
                table: "SyncRuns");
        }
    }
}
