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

            // Several API processes share one database (Balanced mode, Wolverine's default): each node heartbeats,
            // and the durable messages of a node that stops heartbeating are handed to the others. Coupon issuance,
            // the only message, travels in memory and is recovered from its claim's row (CouponClaimRecovery); the
            // node settings stay for any durable message a module adds. Wolverine's defaults (a heartbeat every 10 s,
            // stale after 60 s) would leave a dead node's durable messages waiting well over a minute.
            var nodes = builder.Configuration.GetSection("ExBuy:Nodes");
            opts.Durability.HealthCheckPollingTime = TimeSpan.FromSeconds(nodes.GetValue("HeartbeatSeconds", 5));
            opts.Durability.StaleNodeTimeout = TimeSpan.FromSeconds(nodes.GetValue("StaleAfterSeconds", 15));
        });
        builder.Services.AddHostedService<HandlerWarmUp>();
        return builder;
    }
}
