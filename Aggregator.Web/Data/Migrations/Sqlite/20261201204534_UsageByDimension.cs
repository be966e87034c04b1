using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aggregator.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class UsageByDimension : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "UsageDailyBy",
                columns: table => new
                {
                    Day = table.Column<DateOnly>(type: "TEXT", nullable: false),
                    Dimension = table.Column<int>(type: "INTEGER", nullable: false),
                    Id = table.Column<long>(type: "INTEGER", nullable: false),
                    UserId = table.Column<string>(type: "TEXT", nullable: false),
                    Requests = table.Column<long>(type: "INTEGER", nullable: false),
                    Errors = table.Column<long>(type: "INTEGER", nullable: false),
                    PromptTokens = table.Column<long>(type: "INTEGER", nullable: false),
                    CompletionTokens = table.Column<long>(type: "INTEGER", nullable: false),
                    ReasoningTokens = table.Column<long>(type: "INTEGER", nullable: false),
                    CachedTokens = table.Column<long>(type: "INTEGER", nullable: false),
                    CostNanoUsd = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UsageDailyBy", x => new { x.Day, x.Dimension, x.Id, x.UserId });
                });

            migrationBuilder.CreateIndex(
                name: "IX_UsageDailyBy_Dimension_Day",
                table: "UsageDailyBy",
                columns: new[] { "Dimension", "Day" });

            // The per-dimension sums start equal to the daily sums already there.
            migrationBuilder.Sql("""
                INSERT INTO "UsageDailyBy" ("Day", "Dimension", "Id", "UserId", "Requests", "Errors", "PromptTokens", "CompletionTokens", "ReasoningTokens", "CachedTokens", "CostNanoUsd")
                SELECT "Day", 0, 0, '', SUM("Requests"), SUM("Errors"), SUM("PromptTokens"), SUM("CompletionTokens"), SUM("ReasoningTokens"), SUM("CachedTokens"), SUM("CostNanoUsd")
                FROM "UsageDaily" GROUP BY "Day"
                UNION ALL
                SELECT "Day", 1, 0, "UserId", SUM("Requests"), SUM("Errors"), SUM("PromptTokens"), SUM("CompletionTokens"), SUM("ReasoningTokens"), SUM("CachedTokens"), SUM("CostNanoUsd")
                FROM "UsageDaily" GROUP BY "Day", "UserId"
                UNION ALL
                SELECT "Day", 2, "ProviderId", '', SUM("Requests"), SUM("Errors"), SUM("PromptTokens"), SUM("CompletionTokens"), SUM("ReasoningTokens"), SUM("CachedTokens"), SUM("CostNanoUsd")
                FROM "UsageDaily" GROUP BY "Day", "ProviderId"
                UNION ALL
                SELECT "Day", 3, "ModelId", '', SUM("Requests"), SUM("Errors"), SUM("PromptTokens"), SUM("CompletionTokens"), SUM("ReasoningTokens"), SUM("CachedTokens"), SUM("CostNanoUsd")
                FROM "UsageDaily" GROUP BY "Day", "ModelId"
                UNION ALL
                SELECT "Day", 4, "ApiKeyId", '', SUM("Requests"), SUM("Errors"), SUM("PromptTokens"), SUM("CompletionTokens"), SUM("ReasoningTokens"), SUM("CachedTokens"), SUM("CostNanoUsd")
                FROM "UsageDaily" GROUP BY "Day", "ApiKeyId"
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "UsageDailyBy");
        }
    }
}
