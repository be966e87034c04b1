using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aggregator.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class TokenBudgets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "ApiTokenId",
                table: "Usage",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<decimal>(
                name: "MonthlyBudgetUsd",
                table: "ApiTokens",
                type: "TEXT",
                precision: 18,
                scale: 6,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "MonthlyTokenBudget",
                table: "ApiTokens",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_Usage_ApiTokenId_CreatedAt",
                table: "Usage",
                columns: new[] { "ApiTokenId", "CreatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Usage_ApiTokenId_CreatedAt",
                table: "Usage");

            migrationBuilder.DropColumn(
                name: "ApiTokenId",
                table: "Usage");

            migrationBuilder.DropColumn(
                name: "MonthlyBudgetUsd",
                table: "ApiTokens");

            migrationBuilder.DropColumn(
                name: "MonthlyTokenBudget",
                table: "ApiTokens");
        }
    }
}
