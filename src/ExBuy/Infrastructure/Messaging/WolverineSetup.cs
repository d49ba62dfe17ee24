using Wolverine;

namespace ExBuy.Infrastructure.Messaging;

public static class WolverineSetup
{
    public static WebApplicationBuilder AddExBuyMessaging(this WebApplicationBuilder builder)
    {
        builder.Host.UseWolverine(opts =>
        {
            // Pinned: under a test host the entry assembly is the test project, and Wolverine would scan that.
            opts.ApplicationAssembly = typeof(WolverineSetup).Assembly;
            opts.UseRuntimeCompilation();
            opts.Policies.AutoApplyTransactions();
            opts.Policies.UseDurableLocalQueues();
        });
        builder.Services.AddHostedService<HandlerWarmUp>();
        return builder;
    }
}
