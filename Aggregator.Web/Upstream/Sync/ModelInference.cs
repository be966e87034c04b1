using Aggregator.Web.Data;

namespace Aggregator.Web.Upstream.Sync;

/// <summary>
/// The small, documented rule set used only where a provider's model list says nothing
/// (OpenAI-shaped lists carry ids only). Every value it produces is marked as inferred.
/// Rules, matched on the lower-cased id:
///   type: "embed" → embedding; "rerank" → rerank; "moderation" → moderation; "whisper", "tts", "audio" → audio;
///         "dall-e", "image", "flux", "stable-diffusion", "sdxl", "midjourney", "imagen" → image; "sora", "video" → video;
///         otherwise chat.
///   vision (chat only): "vision", "-vl", "gpt-4o", "gpt-4.1", "gpt-5", "claude-3", "claude-sonnet", "claude-opus",
///         "claude-haiku", "gemini", "llava", "pixtral", "qvq".
///   tools (chat only): "gpt-4", "gpt-5", "gpt-3.5-turbo", "claude", "gemini", "qwen", "deepseek-chat", "deepseek-v3",
///         "mistral", "llama-3", "glm-4".
///   reasoning (chat only): "o1", "o3", "o4" as a word, "reasoner", "-r1", "thinking", "qwq", "gpt-5".
/// </summary>
public static class ModelInference
{
    static readonly string[] Vision = ["vision", "-vl", "gpt-4o", "gpt-4.1", "gpt-5", "claude-3", "claude-sonnet", "claude-opus", "claude-haiku", "gemini", "llava", "pixtral", "qvq"];
    static readonly string[] Tools = ["gpt-4", "gpt-5", "gpt-3.5-turbo", "claude", "gemini", "qwen", "deepseek-chat", "deepseek-v3", "mistral", "llama-3", "glm-4"];
    static readonly string[] Reasoning = ["reasoner", "-r1", "thinking", "qwq", "gpt-5"];

    public static ModelType InferType(string modelId)
    {
        var id = modelId.ToLowerInvariant();
        if (id.Contains("embed")) return ModelType.Embedding;
        if (id.Contains("rerank")) return ModelType.Rerank;
        if (id.Contains("moderation")) return ModelType.Moderation;
        if (ContainsAny(id, "whisper", "tts", "audio")) return ModelType.Audio;
        if (ContainsAny(id, "dall-e", "image", "flux", "stable-diffusion", "sdxl", "midjourney", "imagen")) return ModelType.Image;
        if (ContainsAny(id, "sora", "video")) return ModelType.Video;
        return ModelType.Chat;
    }

    public static ModelCapabilities InferCapabilities(string modelId, ModelType type)
    {
        if (type != ModelType.Chat) return ModelCapabilities.None;
        var id = modelId.ToLowerInvariant();
        var caps = ModelCapabilities.None;
        if (ContainsAny(id, Vision)) caps |= ModelCapabilities.Vision;
        if (ContainsAny(id, Tools)) caps |= ModelCapabilities.Tools;
        if (ContainsAny(id, Reasoning) || IsOSeries(id)) caps |= ModelCapabilities.Reasoning;
        return caps;
    }

    // "o1", "o3-mini", "openai/o4-mini" but not "gpt-4o" or "yolo1".
    static bool IsOSeries(string id)
    {
        var name = id[(id.LastIndexOf('/') + 1)..];
        return name.Length >= 2 && name[0] == 'o' && char.IsAsciiDigit(name[1]) && (name.Length == 2 || !char.IsAsciiLetterOrDigit(name[2]));
    }

    static bool ContainsAny(string id, params string[] needles)
    {
        foreach (var needle in needles)
            if (id.Contains(needle, StringComparison.Ordinal)) return true;
        return false;
    }
}
