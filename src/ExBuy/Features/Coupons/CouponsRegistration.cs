using ExBuy.Infrastructure.Marten;
using Marten;
using Wolverine;

namespace ExBuy.Features.Coupons;

public static class CouponsRegistration
{
    public static StoreOptions ConfigureCoupons(this StoreOptions opts)
    {
        IdSequences.Register<CouponPolicy>(opts);
        IdSequences.Register<Coupon>(opts);
        opts.Schema.For<Coupon>()
            .UseNumericRevisions(true)
            .Duplicate(x => x.UserId)
            .UniqueIndex(x => x.PolicyId, x => x.UserId);
        return opts;
    }

    public static IServiceCollection AddCoupons(this IServiceCollection services) => services.AddSingleton<CouponGate>();

    public static WolverineOptions ConfigureCoupons(this WolverineOptions opts)
    {
        // Durable: an accepted claim is in PostgreSQL before the claimer hears 201.
        opts.PublishMessage<IssueCoupon>().ToLocalQueue("coupons").UseDurableInbox();
        opts.LocalQueue("coupons").MaximumParallelMessages(8);
        return opts;
    }
}
