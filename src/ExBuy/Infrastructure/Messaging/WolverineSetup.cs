using Wolverine;

namespace ExBuy.Infrastructure.Messaging;

public static class WolverineSetup
{
    public static WebApplicationBuilder AddExBuyMessaging(this WebApplicationBuilder builder)
    {
        builder.Host.UseWolverine(opts =>
        {
            opts.UseRuntimeCompilation();
            opts.Policies.AutoApplyTransactions();
            opts.Policies.UseDurableLocalQueues();
        });
        return builder;
    }
}
