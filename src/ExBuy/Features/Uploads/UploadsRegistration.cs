using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Uploads;

public static class UploadsRegistration
{
    public static IServiceCollection AddUploads(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<UploadOptions>().Bind(configuration.GetSection(UploadOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<UploadQuota>();
        services.AddSingleton<UploadSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<UploadSweeper>());
        return services;
    }

    public static StoreOptions ConfigureUploads(this StoreOptions opts)
    {
        IdSequences.Register<UploadedFile>(opts);
        return opts;
    }
}
