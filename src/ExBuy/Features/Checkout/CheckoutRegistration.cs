using Marten;

namespace ExBuy.Features.Checkout;

public static class CheckoutRegistration
{
    public static StoreOptions ConfigureCheckout(this StoreOptions opts)
    {
        opts.Schema.For<IdempotencyRecord>();
        return opts;
    }

    public static IServiceCollection AddCheckout(this IServiceCollection services) => services.AddScoped<PlacePaidOrderHandler>();
}
