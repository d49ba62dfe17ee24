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
        CouponClaims.Register(opts);
        CouponPolicyStock.Register(opts);
        return opts;
    }

    public static IServiceCollection AddCoupons(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CouponOptions>()
            .Bind(configuration.GetSection(CouponOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<ExBuy.Infrastructure.Marten.IModuleReset, CouponsReset>();
        services.AddSingleton<ExBuy.Infrastructure.Marten.IModuleSeed, CouponsSeed>();
        services.AddHostedService<CouponPolicyStockBackfill>();
        services.AddSingleton<CouponGate>();
        services.AddSingleton<ExBuy.Features.Audit.IAuditCheck, Audit.CouponChecks>();
        services.AddSingleton<CouponIssuer>();
        services.AddSingleton<BatchedClaims>();
        services.AddSingleton<CouponGateReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<CouponGateReconciler>());
        services.AddSingleton<CouponClaimRecovery>();
        services.AddHostedService(sp => sp.GetRequiredService<CouponClaimRecovery>());
        return services;
    }

    public static WolverineOptions ConfigureCoupons(this WolverineOptions opts)
    {
        // In memory: the claim's row, committed before the 201, is the durable record, and the message is published once
        // it has committed (Marten outbox). A message lost with its process is published again from the row
        // (CouponClaimRecovery). A durable inbox would write and then update an envelope row per claim besides.
        opts.PublishMessage<IssueCoupon>().ToLocalQueue("coupons").BufferedInMemory();
        // Handlers only hand their claim to the issuer and wait: as many may wait as one issuing batch takes.
        opts.LocalQueue("coupons").MaximumParallelMessages(CouponIssuer.MaxBatch);
        return opts;
    }
}
