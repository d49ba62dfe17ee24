using Marten;

namespace ExBuy.Features.Uploads;

public static class UploadsRegistration
{
    public static StoreOptions ConfigureUploads(this StoreOptions opts)
    {
        opts.Schema.For<UploadedFile>();
        return opts;
    }
}
