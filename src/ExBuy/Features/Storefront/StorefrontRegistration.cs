using Marten;

namespace ExBuy.Features.Storefront;

public static class StorefrontRegistration
{
    public static StoreOptions ConfigureStorefront(this StoreOptions opts)
    {
        opts.Schema.For<StorefrontState>();
        return opts;
    }
}
