using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Aggregator.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Operations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "DurationMs",
                table: "Usage",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Outcome",
                table: "Usage",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "TimeToFirstTokenMs",
                table: "Usage",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "AutoHideFailingMinutes",
                table: "Providers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "HealthProbe",
                table: "Providers",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<DateTime>(
                name: "HealthHiddenAt",
                table: "Models",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "ModelChanges",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ModelId = table.Column<long>(type: "INTEGER", nullable: false),
                    ProviderId = table.Column<int>(type: "INTEGER", nullable: false),
                    SyncRunId = table.Column<long>(type: "INTEGER", nullable: true),
                    At = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Kind = table.Column<int>(type: "INTEGER", nullable: false),
                    Changes = table.Column<string>(type: "TEXT", maxLength: 20000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ModelChanges", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ModelChanges_Models_ModelId",
                        column: x => x.ModelId,
                        principalTable: "Models",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "UpstreamErrors",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Day = table.Column<DateOnly>(type: "TEXT", nullable: false),
                    ProviderId = table.Column<int>(type: "INTEGER", nullable: false),
                    ModelId = table.Column<long>(type: "INTEGER", nullable: true),
                    ApiKeyId = table.Column<long>(type: "INTEGER", nullable: true),
                    UserId = table.Column<string>(type: "TEXT", nullable: true),
                    ApiTokenId = table.Column<long>(type: "INTEGER", nullable: true),
                    Source = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    RequestFailed = table.Column<bool>(type: "INTEGER", nullable: false),
                    ErrorClass = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    StatusCode = table.Column<int>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UpstreamErrors", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "UsageDaily",
                columns: table => new
                {
                    Day = table.Column<DateOnly>(type: "TEXT", nullable: false),
                    UserId = table.Column<string>(type: "TEXT", nullable: false),
                    ProviderId = table.Column<int>(type: "INTEGER", nullable: false),
                    ModelId = table.Column<long>(type: "INTEGER", nullable: false),
                    ApiKeyId = table.Column<long>(type: "INTEGER", nullable: false),
                    ApiTokenId = table.Column<long>(type: "INTEGER", nullable: false),
                    Source = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
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
                    table.PrimaryKey("PK_UsageDaily", x => new { x.Day, x.UserId, x.ProviderId, x.ModelId, x.ApiKeyId, x.ApiTokenId, x.Source });
                });

            migrationBuilder.CreateIndex(
                name: "IX_Usage_CreatedAt",
                table: "Usage",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_Usage_ModelId_CreatedAt",
                table: "Usage",
                columns: new[] { "ModelId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_ModelChanges_ModelId_At",
                table: "ModelChanges",
                columns: new[] { "ModelId", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_ModelChanges_SyncRunId",
                table: "ModelChanges",
                column: "SyncRunId");

            migrationBuilder.CreateIndex(
                name: "IX_UpstreamErrors_ApiKeyId_CreatedAt",
                table: "UpstreamErrors",
                columns: new[] { "ApiKeyId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_UpstreamErrors_CreatedAt",
                table: "UpstreamErrors",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_UpstreamErrors_ModelId_CreatedAt",
                table: "UpstreamErrors",
                columns: new[] { "ModelId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_UsageDaily_ModelId_Day",
                table: "UsageDaily",
                columns: new[] { "ModelId", "Day" });

            migrationBuilder.CreateIndex(
                name: "IX_UsageDaily_UserId_Day",
                table: "UsageDaily",
                columns: new[] { "UserId", "Day" });

            // The daily sums start equal to the usage rows already there (the recorder keeps them equal from now on).
            migrationBuilder.Sql("""
                INSERT INTO "UsageDaily" ("Day", "UserId", "ProviderId", "ModelId", "ApiKeyId", "ApiTokenId", "Source",
                    "Requests", "Errors", "PromptTokens", "CompletionTokens", "ReasoningTokens", "CachedTokens", "CostNanoUsd")
                SELECT "Day", "UserId", "ProviderId", COALESCE("ModelId", 0), COALESCE("ApiKeyId", 0), COALESCE("ApiTokenId", 0), "Source",
                    COUNT(*), 0, SUM("PromptTokens"), SUM("CompletionTokens"), SUM("ReasoningTokens"), SUM("CachedTokens"),
                    SUM(CAST(ROUND(COALESCE("CostUsd", 0) * 1000000000) AS INTEGER))
                FROM "Usage"
                GROUP BY "Day", "UserId", "ProviderId", COALESCE("ModelId", 0), COALESCE("ApiKeyId", 0), COALESCE("ApiTokenId", 0), "Source"
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ModelChanges");

            migrationBuilder.DropTable(
                name: "UpstreamErrors");

            migrationBuilder.DropTable(
                name: "UsageDaily");

            migrationBuilder.DropIndex(
                name: "IX_Usage_CreatedAt",
                table: "Usage");

            migrationBuilder.DropIndex(
                name: "IX_Usage_ModelId_CreatedAt",
                table: "Usage");

            migrationBuilder.DropColumn(
                name: "DurationMs",
                table: "Usage");

            migrationBuilder.DropColumn(
                name: "Outcome",
                table: "Usage");

            migrationBuilder.DropColumn(
                name: "TimeToFirstTokenMs",
                table: "Usage");

            migrationBuilder.DropColumn(
                name: "AutoHideFailingMinutes",
                table: "Providers");

            migrationBuilder.DropColumn(
                name: "HealthProbe",
                table: "Providers");

            migrationBuilder.DropColumn(
                name: "HealthHiddenAt",
                table: "Models");
        }
    }
}
