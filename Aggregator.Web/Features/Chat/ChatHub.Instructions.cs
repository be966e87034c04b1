using Aggregator.Web.Features.Catalog;
using Microsoft.AspNetCore.SignalR;

namespace Aggregator.Web.Features.Chat;

/// <summary>A conversation's settings as the settings dialog shows them.</summary>
/// <param name="HasCustomInstructions">Whether the user's custom instructions apply when the conversation sets no system prompt.</param>
public sealed record ChatSettingsView(ChatSettings Settings, bool HasCustomInstructions);

// Instructions and parameters: a conversation's system prompt and sampling settings, presets, the context gauge.
public sealed partial class ChatHub
{
    const string PresetNotFound = "This preset does not exist or was deleted.";

    /// <summary>The conversation's settings (null: a new chat, which has none yet).</summary>
    public async Task<ChatSettingsView> GetSettings(Guid? conversationId)
    {
        var conversation = conversationId is { } id ? await conversations.FindAsync(UserId, id, Aborted) ?? throw new HubException(NotFound) : null;
        var instructions = await prompts.SystemPromptAsync(UserId, null, Aborted);
        return new ChatSettingsView(conversation is null ? ChatSettings.None : ChatSettings.Of(conversation), instructions is not null);
    }

    /// <summary>Replaces the conversation's settings, checked against the model the page has selected.</summary>
    public async Task<ChatSettings> SaveSettings(Guid conversationId, long modelId, ChatSettings settings)
    {
        var model = await AllowedModelAsync(modelId);
        var valid = ValidSettings(settings, model);
        var conversation = await conversations.FindAsync(UserId, conversationId, Completes) ?? throw new HubException(NotFound);
        valid.ApplyTo(conversation);
        await db.SaveChangesAsync(Completes);
        return valid;
    }

    /// <summary>How full the shown branch (or a new chat) is for the model: the composer's gauge.</summary>
    public async Task<ContextUsage> GetContextUsage(Guid? conversationId, long modelId)
    {
        var model = await AllowedModelAsync(modelId);
        var conversation = conversationId is { } id ? await conversations.FindAsync(UserId, id, Aborted) ?? throw new HubException(NotFound) : null;
        return await contextBudget.UsageAsync(UserId, conversation, model, Aborted);
    }

    public Task<IReadOnlyList<PresetView>> ListPresets() => presets.ListAsync(UserId, Aborted);

    public async Task<PresetView> CreatePreset(string name, long modelId, ChatSettings settings)
    {
        await ValidPresetNameAsync(name, null);
        var model = await AllowedModelAsync(modelId);
        return await presets.CreateAsync(UserId, name, model.Id, ValidSettings(settings, model), Completes);
    }

    public async Task<PresetView> RenamePreset(long presetId, string name)
    {
        await ValidPresetNameAsync(name, presetId);
        return await presets.RenameAsync(UserId, presetId, name, Completes) ?? throw new HubException(PresetNotFound);
    }

    public async Task DeletePreset(long presetId)
    {
        if (!await presets.DeleteAsync(UserId, presetId, Completes)) throw new HubException(PresetNotFound);
    }

    /// <summary>Picking a preset in a conversation: its model and settings become the conversation's.</summary>
    public async Task<PresetView> ApplyPreset(Guid conversationId, long presetId)
    {
        var preset = await presets.FindAsync(UserId, presetId, Aborted) ?? throw new HubException(PresetNotFound);
        var model = await AllowedModelAsync(preset.ModelId ?? 0);
        var valid = ValidSettings(preset.Settings, model);
        var conversation = await conversations.FindAsync(UserId, conversationId, Completes) ?? throw new HubException(NotFound);
        valid.ApplyTo(conversation);
        conversation.ModelId = model.Id;
        await db.SaveChangesAsync(Completes);
        return preset;
    }

    static ChatSettings ValidSettings(ChatSettings settings, CatalogModel model)
    {
        var normalized = ChatSettingsRules.Normalized(settings);
        return ChatSettingsRules.Problem(normalized, model) is { } problem ? throw new HubException(problem) : normalized;
    }

    async Task ValidPresetNameAsync(string? name, long? presetId)
    {
        if (ChatSettingsRules.PresetNameProblem(name) is { } problem) throw new HubException(problem);
        if (await presets.NameTakenAsync(UserId, name!, presetId, Aborted)) throw new HubException($"You already have a preset named “{name!.Trim()}”.");
    }
}
