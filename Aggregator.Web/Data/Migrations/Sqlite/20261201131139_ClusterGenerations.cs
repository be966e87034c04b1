using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aggregator.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ClusterGenerations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Html",
                table: "Messages",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "OwnerNode",
                table: "Messages",
                type: "TEXT",
                maxLength: 128,
                nullable: true);

            // Replies left streaming twice in one conversation (possible before this index) would block it: keep the newest.
            migrationBuilder.Sql("UPDATE \"Messages\" SET \"Status\" = 3 WHERE \"Status\" = 1 AND \"Id\" NOT IN (SELECT MAX(\"Id\") FROM \"Messages\" WHERE \"Status\" = 1 GROUP BY \"ConversationId\")");

            migrationBuilder.CreateIndex(
                name: "IX_Messages_OneStreamingPerConversation",
                table: "Messages",
                column: "ConversationId",
                unique: true,
                filter: "\"Status\" = 1");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Messages_OneStreamingPerConversation",
                table: "Messages");

            migrationBuilder.DropColumn(
                name: "Html",
                table: "Messages");

            migrationBuilder.DropColumn(
                name: "OwnerNode",
                table: "Messages");
        }
    }
}
