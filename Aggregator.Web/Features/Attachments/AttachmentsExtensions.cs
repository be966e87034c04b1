using Aggregator.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Aggregator.Web.Features.Attachments;

public static class AttachmentsExtensions
{
    /// <summary>Files attached to questions: the store follows the database (a folder beside the embedded SQLite, PostgreSQL rows otherwise).</summary>
    public static IServiceCollection AddAttachments(this IServiceCollection services)
    {
        services.AddOptions<AttachmentOptions>().BindConfiguration(AttachmentOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.IsValid, $"{AttachmentOptions.Section}: each tier's MaxFileMegabytes must be 1–1024 and MaxFiles 1–100.")
            .ValidateOnStart();
        services.AddSingleton<IAttachmentStore>(sp =>
        {
            var storage = sp.GetRequiredService<StorageOptions>();
            return storage.IsEmbedded
                ? new FolderAttachmentStore(Path.Combine(storage.DataFolder, "attachments"))
                : new DatabaseAttachmentStore(sp.GetRequiredService<IDbContextFactory<AppDbContext>>());
        });
        services.AddSingleton<AttachmentReader>();
        services.AddScoped<AttachmentIntake>();
        services.AddScoped<QuestionAttachments>();
        services.AddScoped<AttachmentPrompts>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<AttachmentJanitor>();
        services.AddHostedService(sp => sp.GetRequiredService<AttachmentJanitor>());
        return services;
    }
}
