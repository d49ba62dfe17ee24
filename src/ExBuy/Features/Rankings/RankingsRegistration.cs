using Wolverine;

namespace ExBuy.Features.Rankings;

public static class RankingsRegistration
{
    public static IServiceCollection AddRankings(this IServiceCollection services)
    {
        services.AddSingleton<SalesRanking>();
        services.AddMemoryCache();
        return services;
    }

    public static WolverineOptions ConfigureRankings(this WolverineOptions opts)
    {
        // Buffered in memory: a paid order's ranking increment is derived data (the orders are the record), and a
        // durable envelope cost every paid order three more PostgreSQL statements (insert, mark, delete). A crash
        // loses the increments still queued — never money, stock or an order. Failed Redis writes are retried.
        opts.PublishMessage<RecordSales>().ToLocalQueue("rankings").BufferedInMemory();
        opts.LocalQueue("rankings").MaximumParallelMessages(4);
        return opts;
    }
}
