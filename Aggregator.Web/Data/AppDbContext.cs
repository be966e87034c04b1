using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Aggregator.Web.Data;

/// <summary>
/// The one unit of work. Two thin subclasses (<see cref="PostgresDbContext"/>,
/// <see cref="SqliteDbContext"/>) only exist to carry a migration set per provider.
/// </summary>
public abstract class AppDbContext(DbContextOptions options)
    : IdentityDbContext<AppUser>(options), IDataProtectionKeyContext
{
    public DbSet<Provider> Providers => Set<Provider>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<AiModel> Models => Set<AiModel>();
    public DbSet<SyncRun> SyncRuns => Set<SyncRun>();
    public DbSet<Conversation> Conversations => Set<Conversation>();
    public DbSet<Message> Messages => Set<Message>();
    public DbSet<UsageRecord> Usage => Set<UsageRecord>();
    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();
    public DbSet<UpstreamError> UpstreamErrors => Set<UpstreamError>();
    public DbSet<UsageDaily> UsageDaily => Set<UsageDaily>();
    public DbSet<UsageDailyBy> UsageDailyBy => Set<UsageDailyBy>();
    public DbSet<ModelChange> ModelChanges => Set<ModelChange>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<Folder> Folders => Set<Folder>();
    public DbSet<ChatPreset> Presets => Set<ChatPreset>();
    public DbSet<Attachment> Attachments => Set<Attachment>();
    public DbSet<StoredFile> StoredFiles => Set<StoredFile>();
    public DbSet<ShareLink> ShareLinks => Set<ShareLink>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <summary>
    /// Saves as usual; an audit entry about a row the database numbers during this save gets that
    /// number in a second write inside the same transaction, so the change and its entry commit or
    /// fail together.
    /// </summary>
    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        var awaiting = ChangeTracker.Entries<AuditEntry>()
            .Where(e => e.State == EntityState.Added && e.Entity.Subject is not null).Select(e => e.Entity).ToList();
        if (awaiting.Count == 0) return await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);

        await using var owned = Database.CurrentTransaction is null ? await Database.BeginTransactionAsync(cancellationToken) : null;
        foreach (var entry in awaiting) Entry(entry).State = EntityState.Detached;
        var written = await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        foreach (var entry in awaiting)
        {
            entry.EntityId = KeyOf(entry.Subject!);
            entry.Subject = null;
            AuditLog.Add(entry);
        }
        written += await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        if (owned is not null) await owned.CommitAsync(cancellationToken);
        return written;
    }

    /// <summary>The primary key of a tracked entity as text (the audit log's EntityId).</summary>
    internal string? KeyOf(object entity)
    {
        var key = Entry(entity).Metadata.FindPrimaryKey();
        return key is null ? null : string.Join(",", key.Properties.Select(p => Entry(entity).Property(p.Name).CurrentValue));
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);

        builder.Entity<AppUser>(e =>
        {
            e.HasIndex(u => u.Tier);
            e.Property(u => u.CustomInstructions).HasMaxLength(20_000);
        });

        builder.Entity<Provider>(e =>
        {
            e.HasIndex(p => p.Name).IsUnique();
            e.Property(p => p.Name).HasMaxLength(64);
            e.Property(p => p.DisplayName).HasMaxLength(128);
            e.Property(p => p.BaseUrl).HasMaxLength(512);
            e.Property(p => p.ModelsUrl).HasMaxLength(512);
        });

        builder.Entity<ApiKey>(e =>
        {
            e.HasOne(k => k.Provider).WithMany(p => p.Keys).HasForeignKey(k => k.ProviderId).OnDelete(DeleteBehavior.Restrict);
            e.HasIndex(k => new { k.ProviderId, k.SecretFingerprint }).IsUnique();
            e.HasIndex(k => new { k.ProviderId, k.Active });
            e.Property(k => k.Name).HasMaxLength(128);
            e.Property(k => k.MaskedHint).HasMaxLength(32);
            e.Property(k => k.SecretFingerprint).HasMaxLength(64);
            e.Property(k => k.DisabledReason).HasMaxLength(512);
        });

        builder.Entity<AiModel>(e =>
        {
            e.HasOne(m => m.Provider).WithMany(p => p.Models).HasForeignKey(m => m.ProviderId).OnDelete(DeleteBehavior.Restrict);
            e.HasIndex(m => new { m.ProviderId, m.ModelId }).IsUnique();
            // Serves the catalogue query: available, visible models of a provider, by tier.
            e.HasIndex(m => new { m.Available, m.Hidden, m.ProviderId, m.TierRequired });
            e.Property(m => m.ModelId).HasMaxLength(256);
            e.Property(m => m.UpstreamName).HasMaxLength(256);
            e.Property(m => m.DisplayName).HasMaxLength(256);
            e.Property(m => m.DisplayNameOverride).HasMaxLength(256);
            e.Property(m => m.ContentHash).HasMaxLength(32);
            e.Property(m => m.InputPricePerMTok).HasPrecision(18, 6);
            e.Property(m => m.OutputPricePerMTok).HasPrecision(18, 6);
            e.Ignore(m => m.EffectiveName);
        });

        builder.Entity<SyncRun>(e =>
        {
            e.HasOne(r => r.Provider).WithMany().HasForeignKey(r => r.ProviderId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(r => new { r.ProviderId, r.StartedAt });
            e.Property(r => r.Trigger).HasMaxLength(32);
            e.Property(r => r.Error).HasMaxLength(2000);
            e.Property(r => r.Notes).HasMaxLength(2000);
        });

        builder.Entity<Conversation>(e =>
        {
            e.HasOne<AppUser>().WithMany().HasForeignKey(c => c.UserId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne(c => c.Model).WithMany().HasForeignKey(c => c.ModelId).OnDelete(DeleteBehavior.SetNull);
            e.HasOne(c => c.Folder).WithMany().HasForeignKey(c => c.FolderId).OnDelete(DeleteBehavior.SetNull);
            e.HasIndex(c => new { c.UserId, c.DeletedAt, c.UpdatedAt });
            e.Property(c => c.Title).HasMaxLength(200);
            e.Property(c => c.SystemPrompt).HasMaxLength(20_000);
            e.Property(c => c.ReasoningEffort).HasMaxLength(16);
        });

        builder.Entity<Message>(e =>
        {
            e.HasOne(m => m.Conversation).WithMany(c => c.Messages).HasForeignKey(m => m.ConversationId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne(m => m.Parent).WithMany().HasForeignKey(m => m.ParentId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(m => new { m.ConversationId, m.Id });
            e.HasIndex(m => m.Status);
            // One running send per conversation, cluster-wide: a second insert while one streams fails, whichever node tries.
            // A compare send streams one reply per column (Slot); every send has a slot-0 reply, so two sends still collide.
            e.HasIndex(m => new { m.ConversationId, m.Slot }).IsUnique().HasFilter("\"Status\" = 1").HasDatabaseName("IX_Messages_OneStreamingPerConversation");
            e.Property(m => m.OwnerNode).HasMaxLength(128);
            e.Property(m => m.ModelName).HasMaxLength(256);
            e.Property(m => m.FinishReason).HasMaxLength(32);
            e.Property(m => m.Error).HasMaxLength(2000);
        });

        builder.Entity<UsageRecord>(e =>
        {
            e.HasIndex(u => new { u.UserId, u.Day });
            e.HasIndex(u => new { u.ApiKeyId, u.Day });
            e.HasIndex(u => new { u.ModelId, u.Day });
            // A token's month-to-date spend and its recent requests.
            e.HasIndex(u => new { u.ApiTokenId, u.CreatedAt });
            e.Property(u => u.Source).HasMaxLength(16);
            e.Property(u => u.CostUsd).HasPrecision(18, 8);
            // Hour-by-hour charts of short periods and live model health read recent rows.
            e.HasIndex(u => u.CreatedAt);
            e.HasIndex(u => new { u.ModelId, u.CreatedAt });
        });

        builder.Entity<UpstreamError>(e =>
        {
            e.HasIndex(u => u.CreatedAt);
            e.HasIndex(u => new { u.ModelId, u.CreatedAt });
            e.HasIndex(u => new { u.ApiKeyId, u.CreatedAt });
            e.Property(u => u.Source).HasMaxLength(16);
            e.Property(u => u.ErrorClass).HasMaxLength(32);
        });

        builder.Entity<UsageDaily>(e =>
        {
            e.ToTable("UsageDaily");
            e.HasKey(u => new { u.Day, u.UserId, u.ProviderId, u.ModelId, u.ApiKeyId, u.ApiTokenId, u.Source });
            e.HasIndex(u => new { u.UserId, u.Day });
            e.HasIndex(u => new { u.ModelId, u.Day });
            e.Property(u => u.Source).HasMaxLength(16);
            e.Ignore(u => u.CostUsd);
        });

        builder.Entity<UsageDailyBy>(e =>
        {
            e.ToTable("UsageDailyBy");
            e.HasKey(u => new { u.Day, u.Dimension, u.Id, u.UserId });
            e.HasIndex(u => new { u.Dimension, u.Day });
            e.Ignore(u => u.CostUsd);
        });

        builder.Entity<ModelChange>(e =>
        {
            e.HasOne<AiModel>().WithMany().HasForeignKey(c => c.ModelId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(c => new { c.ModelId, c.At });
            e.HasIndex(c => c.SyncRunId);
            e.Property(c => c.Changes).HasMaxLength(20_000);
        });

        builder.Entity<ApiToken>(e =>
        {
            e.HasOne(t => t.User).WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(t => t.SecretHash).IsUnique();
            e.HasIndex(t => new { t.UserId, t.CreatedAt });
            e.Property(t => t.Name).HasMaxLength(100);
            e.Property(t => t.Prefix).HasMaxLength(16);
            e.Property(t => t.SecretHash).HasMaxLength(64);
            e.Property(t => t.AllowedModels).HasMaxLength(2000);
            e.Property(t => t.MonthlyBudgetUsd).HasPrecision(18, 6);
        });

        builder.Entity<Folder>(e =>
        {
            e.HasOne<AppUser>().WithMany().HasForeignKey(f => f.UserId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(f => new { f.UserId, f.Name });
            e.Property(f => f.Name).HasMaxLength(100);
        });

        builder.Entity<ChatPreset>(e =>
        {
            e.HasOne<AppUser>().WithMany().HasForeignKey(p => p.UserId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<AiModel>().WithMany().HasForeignKey(p => p.ModelId).OnDelete(DeleteBehavior.SetNull);
            e.HasIndex(p => new { p.UserId, p.Name });
            e.Property(p => p.Name).HasMaxLength(100);
            e.Property(p => p.SystemPrompt).HasMaxLength(20_000);
            e.Property(p => p.ReasoningEffort).HasMaxLength(16);
        });

        builder.Entity<Attachment>(e =>
        {
            e.HasOne<AppUser>().WithMany().HasForeignKey(a => a.UserId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Conversation>().WithMany().HasForeignKey(a => a.ConversationId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Message>().WithMany().HasForeignKey(a => a.MessageId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(a => new { a.UserId, a.CreatedAt });
            e.Property(a => a.FileName).HasMaxLength(255);
            e.Property(a => a.ContentType).HasMaxLength(100);
            e.Property(a => a.StorageKey).HasMaxLength(200);
            e.Property(a => a.ThumbnailKey).HasMaxLength(200);
        });

        builder.Entity<StoredFile>(e =>
        {
            e.HasKey(f => f.Key);
            e.Property(f => f.Key).HasMaxLength(200);
        });

        builder.Entity<ShareLink>(e =>
        {
            e.HasOne<AppUser>().WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Conversation>().WithMany().HasForeignKey(s => s.ConversationId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(s => s.TokenHash).IsUnique();
            e.HasIndex(s => new { s.UserId, s.CreatedAt });
            e.Property(s => s.TokenHash).HasMaxLength(64);
            e.Property(s => s.Title).HasMaxLength(200);
        });

        builder.Entity<AuditEntry>(e =>
        {
            e.HasIndex(a => a.At);
            e.Property(a => a.ActorName).HasMaxLength(256);
            e.Property(a => a.Action).HasMaxLength(64);
            e.Property(a => a.EntityType).HasMaxLength(64);
            e.Property(a => a.EntityId).HasMaxLength(64);
            e.Property(a => a.Details).HasMaxLength(4000);
        });
    }
}

public sealed class PostgresDbContext(DbContextOptions<PostgresDbContext> options) : AppDbContext(options);

public sealed class SqliteDbContext(DbContextOptions<SqliteDbContext> options) : AppDbContext(options);
