using Aggregator.Web.Features.Usage;

namespace Aggregator.Web.Features.Chat;

public sealed partial class ChatHub
{
    /// <summary>The near-limit line by the composer, read after each reply; null while every daily limit is far.</summary>
    public async Task<LimitSummary?> GetLimitSummary() => LimitSummary.Near(await quotas.StatusAsync(UserId, UserTier, Aborted));
}
