using ExBuy.Features.Orders;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Marten.Subscriptions;
using StackExchange.Redis;

namespace ExBuy.Features.Rankings;

/// <summary>
/// Feeds the sales ranking from the paid orders' <see cref="OrderPlaced"/> events (<see cref="OrderPlaced.Paid"/>),
/// run by Marten's async daemon: on one API node at a time (<c>DaemonMode.HotCold</c>: leader election by a
/// PostgreSQL advisory lock, another node takes over when the leader dies), from the progress the daemon stores in
/// PostgreSQL. Nothing waits in memory: an order that committed is in the event log, so a node that dies loses no
/// increment, and the node that takes over starts from the last recorded progress. A page processed twice (the node
/// died after Redis counted it, before the daemon recorded its progress) is counted once: see
/// <see cref="SalesRanking.ApplyAsync"/>.
/// </summary>
public sealed class SalesRankingSubscription : SubscriptionBase
{
    public const string ShardName = "SalesRanking";

    private readonly IConnectionMultiplexer _redis;
    private readonly TimeProvider _clock;

    public SalesRankingSubscription(IConnectionMultiplexer redis, TimeProvider clock)
    {
        _redis = redis;
        _clock = clock;
        Name = ShardName;
        IncludeType<OrderPlaced>();
    }

    public override async Task<IChangeListener> ProcessEventsAsync(
        EventRange page, ISubscriptionController controller, IDocumentOperations operations, CancellationToken cancellationToken)
    {
        var sales = page.Events
            .Where(e => e.Data is OrderPlaced { Paid: true })
            .Select(e => (Sequence: e.Sequence, Placed: (OrderPlaced)e.Data))
            .Select(s => new RankedSale(
                s.Sequence,
                DateOnly.FromDateTime(s.Placed.At.UtcDateTime),
                s.Placed.Items.GroupBy(i => i.ProductId).Select(g => new SoldItem(g.Key, g.Sum(i => i.Quantity))).ToList()))
            .ToList();
        if (sales.Count > 0)
        {
            await SalesRanking.ApplyAsync(_redis.GetDatabase(), DateOnly.FromDateTime(_clock.GetUtcNow().UtcDateTime), sales);
        }

        return NullChangeListener.Instance;
    }
}
