using Marten;

namespace ExBuy.Features.Balance;

public static class BalanceRegistration
{
    public static StoreOptions ConfigureBalance(this StoreOptions opts)
    {
        BalanceStreams.Register(opts);
        return opts;
    }

    public static IServiceCollection AddBalance(this IServiceCollection services) => services.AddSingleton<ChargeBalanceHandler>()
        .AddSingleton<ExBuy.Features.Audit.IAuditCheck, Audit.BalanceChecks>()
        .AddSingleton<ExBuy.Infrastructure.Marten.IModuleSeed, BalanceSeed>();
}
