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
        // Durable: an accepted claim is in PostgreSQL before the claimer hears 201.
        opts.PublishMessage<IssueCoupon>().ToLocalQueue("coupons").UseDurableInbox();
        opts.LocalQueue("coupons").MaximumParallelMessages(8);
        // Buffered in memory: a paid order's ranking increment is derived data (the orders are the record), and a
        // durable envelope cost every paid order three more PostgreSQL statements (insert, mark, delete). A crash
        // loses the increments still queued — never money, stock or an order. Failed Redis writes are retried.
        opts.PublishMessage<RecordSales>().ToLocalQueue("rankings").BufferedInMemory();
        opts.LocalQueue("rankings").MaximumParallelMessages(4);
        return opts;
    }
}
