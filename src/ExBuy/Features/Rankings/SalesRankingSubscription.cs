using ExBuy.Features.Orders;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Marten.Subscriptions;
using Npgsql;
using StackExchange.Redis;

namespace ExBuy.Features.Rankings;

/// <summary>
/// Feeds the sales ranking from the event log: paid orders' <see cref="OrderPlaced"/> (<see cref="OrderPlaced.Paid"/>),
/// their cancellations and revivals (into the day the order was placed on) and the resets, run by Marten's async
/// daemon: on one API node at a time (<c>DaemonMode.HotCold</c>: leader election by a PostgreSQL advisory lock, another
/// node takes over when the leader dies), from the progress the daemon stores in PostgreSQL. Nothing waits in memory:
/// an order that committed is in the event log, so a node that dies loses no increment, and the node that takes over
/// starts from the last recorded progress. A page processed twice (the node died after Redis counted it, before the
/// daemon recorded its progress) is counted once: see <see cref="SalesRanking.ApplyAsync"/>. When Redis lost the
/// ranking (no applied mark although the daemon is past the start), the page cannot be added to what is gone: the
/// ranking is rebuilt from PostgreSQL as of the page's end (<see cref="SalesRankingTruth"/>).
/// </summary>
public sealed partial class SalesRankingSubscription : SubscriptionBase
{
    public const string ShardName = "SalesRanking";

    private readonly IConnectionMultiplexer _redis;
    private readonly NpgsqlDataSource _db;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;

    public SalesRankingSubscription(IConnectionMultiplexer redis, NpgsqlDataSource db, TimeProvider clock, ILogger<SalesRankingSubscription> logger)
    {
        _redis = redis;
        _db = db;
        _clock = clock;
        _logger = logger;
        Name = ShardName;
        IncludeType<OrderPlaced>();
        IncludeType<OrderCancelled>();
        IncludeType<OrderRevived>();
        IncludeType<SalesRankingReset>();
    }

    public override async Task<IChangeListener> ProcessEventsAsync(
        EventRange page, ISubscriptionController controller, IDocumentOperations operations, CancellationToken cancellationToken)
    {
        var schema = operations.DocumentStore.Options.Events.DatabaseSchemaName;
        var undone = page.Events
            .Select(e => e.Data switch { OrderCancelled c => (long?)c.OrderId, OrderRevived r => r.OrderId, _ => null })
            .OfType<long>().Distinct().ToList();
        var placed = undone.Count == 0 ? [] : await PaidPlacementsAsync(schema, undone, cancellationToken);

        var steps = new List<RankingStep>();
        foreach (var e in page.Events)
        {
            switch (e.Data)
            {
                case OrderPlaced { Paid: true } order:
                    steps.Add(new RankedSale(e.Sequence, DateOnly.FromDateTime(order.At.UtcDateTime), Sold(order.Items)));
                    break;
                case OrderCancelled cancelled when placed.TryGetValue(cancelled.OrderId, out var p):
                    steps.Add(new RankedSale(e.Sequence, p.Day, Sold(cancelled.Items), Sign: -1, PlacedSequence: p.Sequence));
                    break;
                case OrderRevived revived when placed.TryGetValue(revived.OrderId, out var p):
                    steps.Add(new RankedSale(e.Sequence, p.Day, Sold(revived.Items), Sign: 1, PlacedSequence: p.Sequence));
                    break;
                case SalesRankingReset reset:
                    steps.Add(new RankedReset(e.Sequence, reset.Seed));
                    break;
            }
        }

        if (steps.Count == 0)
        {
            return NullChangeListener.Instance;
        }

        var db = _redis.GetDatabase();
        var today = DateOnly.FromDateTime(_clock.GetUtcNow().UtcDateTime);
        if (await SalesRanking.ApplyAsync(db, today, steps, page.SequenceFloor) < 0)
        {
            var rebuilt = await SalesRanking.RebuildAsync(db, _db, schema, today, page.SequenceCeiling, cancellationToken);
            LogRebuilt(_logger, page.SequenceFloor, page.SequenceCeiling, rebuilt);
        }

        return NullChangeListener.Instance;
    }

    /// <summary>How far the subscription has counted, by the daemon's stored progress (stored after its Redis write).</summary>
    public static async Task<long> ProgressAsync(NpgsqlDataSource db, string eventsSchema, CancellationToken ct)
    {
        await using var command = db.CreateCommand(RankingsSql.Progress(eventsSchema));
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    private static List<SoldItem> Sold(IReadOnlyList<OrderedItem> items) =>
        items.GroupBy(i => i.ProductId).Select(g => new SoldItem(g.Key, g.Sum(i => i.Quantity))).ToList();

    /// <summary>Of the given orders, the paid ones: their placement's sequence and day (a cancellation names neither).</summary>
    private async Task<Dictionary<long, (long Sequence, DateOnly Day)>> PaidPlacementsAsync(string schema, List<long> orderIds, CancellationToken ct)
    {
        await using var command = _db.CreateCommand(RankingsSql.PaidPlacements(schema));
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = orderIds.Select(OrderStreams.Key).ToArray() });
        var placed = new Dictionary<long, (long, DateOnly)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            placed[reader.GetInt64(0)] = (reader.GetInt64(1), reader.GetFieldValue<DateOnly>(2));
        }

        return placed;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "The sales ranking had no applied mark in Redis past event {Floor} (Redis lost it): rebuilt from PostgreSQL as of event {Ceiling} (written: {Rebuilt})")]
    private static partial void LogRebuilt(ILogger logger, long floor, long ceiling, bool rebuilt);
}
