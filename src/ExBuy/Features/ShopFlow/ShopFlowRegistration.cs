using ExBuy.Features.ShopFlow.Balance;
using ExBuy.Features.ShopFlow.Coupons;
using ExBuy.Features.ShopFlow.PlaceShopOrder;
using ExBuy.Features.ShopFlow.Rankings;
using ExBuy.Infrastructure.Marten;
using Marten;
using Wolverine;

namespace ExBuy.Features.ShopFlow;

public static class ShopFlowRegistration
{
    public static StoreOptions ConfigureShopFlow(this StoreOptions opts)
    {
        IdSequences.Register<ShopUser>(opts);
        opts.Schema.For<ShopUser>().UniqueIndex(x => x.Name);
        IdSequences.Register<CouponPolicy>(opts);
        IdSequences.Register<Coupon>(opts);
        opts.Schema.For<Coupon>()
            .UseNumericRevisions(true)
            .Duplicate(x => x.UserId)
            .UniqueIndex(x => x.PolicyId, x => x.UserId);
        opts.Schema.For<ShopFlowState>();
        opts.Schema.For<IdempotencyRecord>();
        BalanceStreams.Register(opts);
        return opts;
    }

    public static IServiceCollection AddShopFlow(this IServiceCollection services)
    {
        services.AddSingleton<CouponGate>();
        services.AddSingleton<SalesRanking>();
        services.AddMemoryCache();
        return services;
    }

    public static WolverineOptions ConfigureShopFlow(this WolverineOptions opts)
    {
        // Durable: an accepted claim or a paid order's ranking update is in PostgreSQL before it is acknowledged.
        opts.PublishMessage<IssueCoupon>().ToLocalQueue("coupons").UseDurableInbox();
        opts.LocalQueue("coupons").MaximumParallelMessages(8);
        opts.PublishMessage<RecordSales>().ToLocalQueue("rankings").UseDurableInbox();
        return opts;
    }
}
