using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Uploads;

public static class UploadsRegistration
{
    public static StoreOptions ConfigureUploads(this StoreOptions opts)
    {
        IdSequences.Register<UploadedFile>(opts);
        return opts;
    }
}
