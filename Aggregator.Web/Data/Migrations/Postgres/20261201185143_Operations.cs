using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Aggregator.Web.Data.Migrations.Postgres
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
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Outcome",
                table: "Usage",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "TimeToFirstTokenMs",
                table: "Usage",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "AutoHideFailingMinutes",
                table: "Providers",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "HealthProbe",
                table: "Providers",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<DateTime>(
                name: "HealthHiddenAt",
                table: "Models",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "ModelChanges",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    ModelId = table.Column<long>(type: "bigint", nullable: false),
                    ProviderId = table.Column<int>(type: "integer", nullable: false),
                    SyncRunId = table.Column<long>(type: "bigint", nullable: true),
                    At = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Kind = table.Column<int>(type: "integer", nullable: false),
                    Changes = table.Column<string>(type: "character varying(20000)", maxLength: 20000, nullable: true)
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
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Day = table.Column<DateOnly>(type: "date", nullable: false),
                    ProviderId = table.Column<int>(type: "integer", nullable: false),
                    ModelId = table.Column<long>(type: "bigint", nullable: true),
                    ApiKeyId = table.Column<long>(type: "bigint", nullable: true),
                    UserId = table.Column<string>(type: "text", nullable: true),
                    ApiTokenId = table.Column<long>(type: "bigint", nullable: true),
                    Source = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    RequestFailed = table.Column<bool>(type: "boolean", nullable: false),
                    ErrorClass = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    StatusCode = table.Column<int>(type: "integer", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UpstreamErrors", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "UsageDaily",
                columns: table => new
                {
                    Day = table.Column<DateOnly>(type: "date", nullable: false),
                    UserId = table.Column<string>(type: "text", nullable: false),
                    ProviderId = table.Column<int>(type: "integer", nullable: false),
                    ModelId = table.Column<long>(type: "bigint", nullable: false),
                    ApiKeyId = table.Column<long>(type: "bigint", nullable: false),
                    ApiTokenId = table.Column<long>(type: "bigint", nullable: false),
                    Source = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Requests = table.Column<long>(type: "bigint", nullable: false),
                    Errors = table.Column<long>(type: "bigint", nullable: false),
                    PromptTokens = table.Column<long>(type: "bigint", nullable: false),
                    CompletionTokens = table.Column<long>(type: "bigint", nullable: false),
                    ReasoningTokens = table.Column<long>(type: "bigint", nullable: false),
                    CachedTokens = table.Column<long>(type: "bigint", nullable: false),
                    CostNanoUsd = table.Column<long>(type: "bigint", nullable: false)
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
                    SUM(CAST(ROUND(COALESCE("CostUsd", 0) * 1000000000) AS bigint))
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
