using Marten;

namespace ExBuy.Features.Rankings;

public static class RankingsRegistration
{
    public static StoreOptions ConfigureRankings(this StoreOptions opts)
    {
        opts.Projections.Add<ProductSalesProjection>(JasperFx.Events.Projections.ProjectionLifecycle.Async);
        opts.Schema.For<ProductSales>().Duplicate(x => x.TotalRevenue);
        return opts;
    }

    public static IServiceCollection AddRankings(this IServiceCollection services)
    {
        services.AddSingleton<SalesRanking>();
        services.AddSingleton<ExBuy.Features.Audit.IAuditCheck, Audit.RankingCheck>();
        services.AddSingleton<ExBuy.Infrastructure.Marten.IModuleSeed, RankingsSeed>();
        services.AddSingleton<SalesRankingRepair>();
        services.AddHostedService(sp => sp.GetRequiredService<SalesRankingRepair>());
        // The ranking follows the event log through the async daemon (durable, on the elected node): see
        // SalesRankingSubscription.
        services.ConfigureMarten((sp, opts) =>
        {
            opts.Events.AddEventType<SalesRankingReset>();
            opts.Events.Subscribe(new SalesRankingSubscription(
                sp.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>(), sp.GetRequiredService<Npgsql.NpgsqlDataSource>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<SalesRankingSubscription>>()));
        });
        return services;
    }
}
