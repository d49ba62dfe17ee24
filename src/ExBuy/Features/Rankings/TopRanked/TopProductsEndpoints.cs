using FastEndpoints;

namespace ExBuy.Features.Rankings.TopRanked;

/// <summary><c>GET /products/top/realtime</c>: the last three days including today's live orders, highest first, at most five.</summary>
public sealed class TopRealtimeEndpoint(SalesRanking ranking) : EndpointWithoutRequest<List<TopProductEntry>>
{
    public override void Configure()
    {
        Get("/products/top/realtime");
        Tags("shop-flow");
    }

    public override async Task HandleAsync(CancellationToken ct) => await Send.OkAsync(await ranking.TopAsync(ct), ct);
}

/// <summary>
/// <c>GET /products/top</c>: the same ranking from a cache refreshed at most every <see cref="Freshness"/> (the Spring
/// shop cached it daily; a few seconds keeps it useful during a run while sparing Redis the union per request). The
/// cache is one copy in Redis, so every API node behind a load balancer answers the same list.
/// </summary>
public sealed class TopCachedEndpoint(SalesRanking ranking) : EndpointWithoutRequest<List<TopProductEntry>>
{
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(10);

    public override void Configure()
    {
        Get("/products/top");
        Tags("shop-flow");
    }

    public override async Task HandleAsync(CancellationToken ct) => await Send.OkAsync(await ranking.CachedTopAsync(Freshness, ct), ct);
}
