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
            // and the durable inbox of a node that stops heartbeating is handed to the others. Wolverine's defaults
            // (a heartbeat every 10 s, stale after 60 s, released after two stale sightings) leave a dead node's
            // accepted messages waiting well over a minute; these release them within about 25 s. A node merely
            // stalled that long is treated as dead too: its messages may then run twice, which the handlers absorb
            // (coupon issuance is keyed by the claim id).
            var nodes = builder.Configuration.GetSection("ExBuy:Nodes");
            opts.Durability.HealthCheckPollingTime = TimeSpan.FromSeconds(nodes.GetValue("HeartbeatSeconds", 5));
            opts.Durability.StaleNodeTimeout = TimeSpan.FromSeconds(nodes.GetValue("StaleAfterSeconds", 15));
        });
        builder.Services.AddHostedService<HandlerWarmUp>();
        return builder;
    }
}
