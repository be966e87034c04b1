using Microsoft.AspNetCore.Identity;

namespace Aggregator.Web.Data;

/// <summary>Subscription level of a user; a model's <see cref="AiModel.TierRequired"/> gates it.</summary>
public enum Tier { Free = 0, Pro = 1, Max = 2 }

public enum ProviderKind { Aggregator = 0, Direct = 1 }

public enum ApiStandard { OpenAI = 0, Anthropic = 1 }

/// <summary>How a provider's model list is shaped; <see cref="Auto"/> detects it from the payload.</summary>
public enum ModelListShape { Auto = 0, OpenAI = 1, OpenRouter = 2, AiHubMix = 3, Anthropic = 4 }

public enum ModelType { Chat = 0, Embedding = 1, Image = 2, Audio = 3, Video = 4, Rerank = 5, Moderation = 6, Other = 7 }

[Flags]
public enum ModelCapabilities
{
    None = 0,
    Vision = 1,
    Tools = 2,
    Reasoning = 4,
    JsonOutput = 8,
    WebSearch = 16,
    AudioInput = 32,
}

public enum SyncRunStatus { Running = 0, Succeeded = 1, Failed = 2 }

/// <summary>Tool is an API-only role (a tool result); conversations in the database never hold one.</summary>
public enum MessageRole { System = 0, User = 1, Assistant = 2, Tool = 3 }

public enum MessageStatus { Complete = 0, Streaming = 1, Stopped = 2, Interrupted = 3, Failed = 4 }

public sealed class AppUser : IdentityUser
{
    public Tier Tier { get; set; } = Tier.Free;
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
    /// <summary>The user's custom instructions: the system prompt of every conversation without its own.</summary>
    public string? CustomInstructions { get; set; }
}

public sealed class Provider
{
    public int Id { get; set; }
    /// <summary>Stable slug, unique (e.g. "aihubmix").</summary>
    public required string Name { get; set; }
    public required string DisplayName { get; set; }
    public ProviderKind Kind { get; set; }
    public ApiStandard ApiStandard { get; set; }
    public required string BaseUrl { get; set; }
    /// <summary>Overrides <c>{BaseUrl}/models</c> when the provider lists models elsewhere.</summary>
    public string? ModelsUrl { get; set; }
    public ModelListShape ListShape { get; set; }
    public bool Enabled { get; set; } = true;
    public int SyncIntervalMinutes { get; set; } = 360;
    /// <summary>Tier given to models this provider adds; admins change it per model afterwards.</summary>
    public Tier DefaultTier { get; set; } = Tier.Free;
    /// <summary>When set, requests may fall back to another provider serving the same model id.</summary>
    public bool AllowFallback { get; set; }
    public bool IsDemo { get; set; }
    /// <summary>Send a minimal request to models with no recent traffic, so their health is known before a user finds out.</summary>
    public bool HealthProbe { get; set; }
    /// <summary>Hide a model from the selector after it has been failing this many minutes (null: never hide).</summary>
    public int? AutoHideFailingMinutes { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
    public DateTime? LastSyncedAt { get; set; }

    public List<ApiKey> Keys { get; set; } = [];
    public List<AiModel> Models { get; set; } = [];
}

public sealed class ApiKey
{
    public long Id { get; set; }
    public int ProviderId { get; set; }
    public Provider? Provider { get; set; }
    public required string Name { get; set; }
    /// <summary>AES-GCM ciphertext of the secret; the key is outside the database.</summary>
    public required string EncryptedSecret { get; set; }
    /// <summary>Keyed hash of the secret, to refuse duplicates without decrypting.</summary>
    public required string SecretFingerprint { get; set; }
    /// <summary>What the UI shows, e.g. "sk-…abcd".</summary>
    public required string MaskedHint { get; set; }
    public bool Active { get; set; } = true;
    public DateTime? LastUsedAt { get; set; }
    public long RequestCount { get; set; }
    public int FailureCount { get; set; }
    public int ConsecutiveFailures { get; set; }
    public DateTime? CooldownUntil { get; set; }
    public string? DisabledReason { get; set; }
    public DateTime? DisabledAt { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
    /// <summary>Soft delete: usage rows and messages still point here.</summary>
    public DateTime? DeletedAt { get; set; }
}

/// <summary>One (provider, model id) pair: direct and aggregator models share this table.</summary>
public sealed class AiModel
{
    public long Id { get; set; }
    public int ProviderId { get; set; }
    public Provider? Provider { get; set; }
    public required string ModelId { get; set; }
    /// <summary>Name the upstream gives the model (OpenRouter "name", Anthropic "display_name").</summary>
    public string? UpstreamName { get; set; }
    public required string DisplayName { get; set; }
    /// <summary>Admin's rename; sync never overwrites it.</summary>
    public string? DisplayNameOverride { get; set; }
    public string? Description { get; set; }
    public ModelType Type { get; set; }
    public ModelCapabilities Capabilities { get; set; }
    /// <summary>Which of type/capabilities were guessed from the id because the provider said nothing.</summary>
    public bool TypeInferred { get; set; }
    public ModelCapabilities InferredCapabilities { get; set; }
    public int? ContextWindow { get; set; }
    public int? MaxOutputTokens { get; set; }
    /// <summary>USD per million input tokens, when the provider publishes it.</summary>
    public decimal? InputPricePerMTok { get; set; }
    public decimal? OutputPricePerMTok { get; set; }
    public Tier TierRequired { get; set; }
    public bool Available { get; set; } = true;
    public bool Hidden { get; set; }
    /// <summary>Set while live health keeps the model out of the selector (failing for the provider's window); cleared when it recovers.</summary>
    public DateTime? HealthHiddenAt { get; set; }
    public DateTime FirstSeenAt { get; set; }
    public DateTime LastSeenAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    /// <summary>Hash of the upstream metadata; equal hash means the sync leaves the row alone.</summary>
    public required string ContentHash { get; set; }

    public string EffectiveName => DisplayNameOverride ?? DisplayName;
}

public sealed class SyncRun
{
    public long Id { get; set; }
    public int ProviderId { get; set; }
    public Provider? Provider { get; set; }
    public DateTime StartedAt { get; set; }
    public int DurationMs { get; set; }
    public SyncRunStatus Status { get; set; }
    public required string Trigger { get; set; }
    public int Added { get; set; }
    public int Updated { get; set; }
    public int Removed { get; set; }
    public int Unchanged { get; set; }
    public int Attempts { get; set; }
    public string? Error { get; set; }
    /// <summary>What the admin should know about a successful run (duplicate ids ignored, entries skipped).</summary>
    public string? Notes { get; set; }
}

public sealed class Conversation
{
    public Guid Id { get; set; }
    public required string UserId { get; set; }
    public required string Title { get; set; }
    public bool TitleIsAutomatic { get; set; } = true;
    /// <summary>The model this conversation talks to (the seed's conversation.model).</summary>
    public long? ModelId { get; set; }
    public AiModel? Model { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
    public DateTime UpdatedAt { get; set; } = DateTime.UtcNow;
    public DateTime? DeletedAt { get; set; }
    /// <summary>
    /// The message the shown branch ends at, when the user picked a version; null: the newest message
    /// (every send, edit and regenerate makes its new reply the newest, so none of them writes this).
    /// </summary>
    public long? CurrentLeafId { get; set; }
    /// <summary>This conversation's system prompt; overrides the user's <see cref="AppUser.CustomInstructions"/>.</summary>
    public string? SystemPrompt { get; set; }
    /// <summary>Sampling parameters sent with every reply; null: the model's default.</summary>
    public double? Temperature { get; set; }
    public double? TopP { get; set; }
    public int? MaxOutputTokens { get; set; }
    /// <summary>minimal, low, medium or high, for reasoning models.</summary>
    public string? ReasoningEffort { get; set; }
    public DateTime? PinnedAt { get; set; }
    public DateTime? ArchivedAt { get; set; }
    public Guid? FolderId { get; set; }
    public Folder? Folder { get; set; }
    public List<Message> Messages { get; set; } = [];
}

public sealed class Message
{
    public long Id { get; set; }
    public Guid ConversationId { get; set; }
    public Conversation? Conversation { get; set; }
    /// <summary>
    /// The message this one follows: conversations are trees. An edited question is a sibling of the
    /// original (same parent), a regenerated reply a sibling of the first reply; nothing is deleted.
    /// Null for a conversation's first question (and its edits).
    /// </summary>
    public long? ParentId { get; set; }
    public Message? Parent { get; set; }
    /// <summary>Column of a compare send (0, 1, 2): replies written at the same time under one question. 0 otherwise.</summary>
    public int Slot { get; set; }
    /// <summary>Replies of one compare send share this id; null for ordinary replies.</summary>
    public Guid? CompareGroup { get; set; }
    public MessageRole Role { get; set; }
    public string Content { get; set; } = "";
    public string? Reasoning { get; set; }
    public MessageStatus Status { get; set; }
    public long? ModelId { get; set; }
    public int? ProviderId { get; set; }
    public long? ApiKeyId { get; set; }
    /// <summary>Model id as it was when the message was written, for display after renames.</summary>
    public string? ModelName { get; set; }
    public int? PromptTokens { get; set; }
    public int? CompletionTokens { get; set; }
    public bool TokensEstimated { get; set; }
    public int? TimeToFirstTokenMs { get; set; }
    public int? DurationMs { get; set; }
    public string? FinishReason { get; set; }
    public string? Error { get; set; }
    /// <summary>Sequence number of the last streamed delta persisted into <see cref="Content"/>.</summary>
    public int Seq { get; set; }
    /// <summary>The finished reply rendered once (Markdig, sanitised), so a page view does not render every reply again; null while streaming.</summary>
    public string? Html { get; set; }
    /// <summary>The node (<see cref="Cluster.NodeIdentity"/>) producing this reply while it streams; its lease decides whether it is still alive.</summary>
    public string? OwnerNode { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
    public DateTime? CompletedAt { get; set; }
}

/// <summary>One completion's token usage and cost; summed per user, key, model and day.</summary>
public sealed class UsageRecord
{
    public long Id { get; set; }
    public required string UserId { get; set; }
    public int ProviderId { get; set; }
    public long? ApiKeyId { get; set; }
    public long? ModelId { get; set; }
    public long? MessageId { get; set; }
    /// <summary>The personal access token an API request came with; null for the chat.</summary>
    public long? ApiTokenId { get; set; }
    public required string Source { get; set; }
    public DateOnly Day { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
    public int PromptTokens { get; set; }
    public int CompletionTokens { get; set; }
    public int ReasoningTokens { get; set; }
    public int CachedTokens { get; set; }
    /// <summary>True when the provider sent no usage and the numbers were estimated.</summary>
    public bool Estimated { get; set; }
    public decimal? CostUsd { get; set; }
    public UsageOutcome Outcome { get; set; }
    /// <summary>From the request reaching the router to the first token (chat; null where there is no stream).</summary>
    public int? TimeToFirstTokenMs { get; set; }
    /// <summary>From the request reaching the router to its last byte.</summary>
    public int? DurationMs { get; set; }
}

/// <summary>
/// A personal access token for the /v1 API. Only the SHA-256 of the secret is stored; the secret
/// is shown once. It never grants more than its owner has now (tier, lockout, existence).
/// </summary>
public sealed class ApiToken
{
    public long Id { get; set; }
    public required string UserId { get; set; }
    public AppUser? User { get; set; }
    public required string Name { get; set; }
    /// <summary>What lists show, e.g. "agg-AbCdEfGh": enough to recognise, useless to call with.</summary>
    public required string Prefix { get; set; }
    /// <summary>Hex SHA-256 of the whole secret: a random 32-byte secret needs no salt or slow hash.</summary>
    public required string SecretHash { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
    public DateTime? ExpiresAt { get; set; }
    public DateTime? RevokedAt { get; set; }
    public DateTime? LastUsedAt { get; set; }
    /// <summary>Comma-separated model ids or patterns ("openai/*"); null or empty: every model of the owner's tier.</summary>
    public string? AllowedModels { get; set; }
    public int? RequestsPerMinute { get; set; }
    /// <summary>Spend per UTC calendar month, in USD at our model prices; null: no USD budget.</summary>
    public decimal? MonthlyBudgetUsd { get; set; }
    /// <summary>Prompt plus completion tokens per UTC calendar month; null: no token budget.</summary>
    public long? MonthlyTokenBudget { get; set; }
}

public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTime At { get; set; } = DateTime.UtcNow;
    public string? ActorId { get; set; }
    public required string ActorName { get; set; }
    public required string Action { get; set; }
    public required string EntityType { get; set; }
    public string? EntityId { get; set; }
    /// <summary>Human-readable details; never a secret.</summary>
    public string? Details { get; set; }
    /// <summary>The entity the entry is about while the database has not numbered it yet (not stored; see AppDbContext.SaveChangesAsync).</summary>
    internal object? Subject { get; set; }
}
