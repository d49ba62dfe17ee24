using Marten;
using Npgsql;

namespace ExBuy.Features.Rankings;

/// <summary>The Rankings module's hand-written statements on its PostgreSQL read model (<see cref="ProductSales"/>), in one place.</summary>
public static class RankingsSql
{
    /// <summary>
    /// Best sellers by revenue (a duplicated column, see <see cref="RankingsRegistration"/>), the id breaking ties.
    /// Hand-written: the hottest read of the suites, no LINQ query to parse per request.
    /// </summary>
    public static async Task<List<ProductSales>> TopByRevenueAsync(IDocumentStore store, NpgsqlDataSource db, int limit, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            $"""
             select d.data from {store.Options.DatabaseSchemaName}.mt_doc_productsales d
             where (d.data ->> 'TotalQuantity')::bigint > 0 order by d.total_revenue desc, d.id limit $1
             """);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var serializer = store.Options.Serializer();
        var top = new List<ProductSales>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            top.Add(serializer.FromJson<ProductSales>(reader, 0));
        }

        return top;
    }

    /// <summary>
    /// What the ranking must hold as of event $1 ($2 the epoch or null, $3 the oldest day), from the event log in one
    /// snapshot (see <see cref="SalesRankingTruth"/>). Hand-written: it reads Marten's <c>mt_events</c> rows across
    /// streams by type and sequence, with their JSON, in one statement — no Marten query API does that.
    /// </summary>
    public static string Truth(string e) =>
        $"""
         with reset as (
             select coalesce(max(seq_id), 0) as latest from {e}.mt_events where type = '{SalesRankingEvents.ResetType}' and seq_id <= $1
         ),
         epoch as (select coalesce($2, (select latest from reset)) as seq),
         seed as (
             select (s ->> 'Day')::date as day, (s ->> 'ProductId')::bigint as product_id, (s ->> 'Quantity')::bigint as quantity
             from {e}.mt_events r join epoch on r.seq_id = epoch.seq, jsonb_array_elements(r.data -> 'Seed') s
             where r.type = '{SalesRankingEvents.ResetType}'
         ),
         placed as (
             select p.stream_id, ((p.data ->> 'At')::timestamptz at time zone 'UTC')::date as day, p.data -> 'Items' as items
             from {e}.mt_events p join epoch on p.seq_id > epoch.seq
             where p.type = 'order_placed' and coalesce((p.data ->> 'Paid')::boolean, false) and p.seq_id <= $1
         ),
         live as (
             select p.day, p.items from placed p
             where coalesce((select l.type from {e}.mt_events l
                             where l.stream_id = p.stream_id and l.type in ('order_cancelled', 'order_revived') and l.seq_id <= $1
                             order by l.seq_id desc limit 1), 'order_revived') = 'order_revived'
         ),
         units as (
             select day, product_id, quantity from seed
             union all
             select l.day, (i ->> 'ProductId')::bigint, (i ->> 'Quantity')::bigint from live l, jsonb_array_elements(l.items) i
         ),
         totals as (select day, product_id, sum(quantity)::bigint as quantity from units where day >= $3 group by day, product_id)
         select (select latest from reset), (select seq from epoch), t.day, t.product_id, t.quantity
         from (select 1) one left join totals t on true
         """;

    /// <summary>
    /// How far the subscription has counted. Hand-written: Marten's daemon progress table (<c>mt_event_progression</c>),
    /// summed over the subscription's shards, which its API reads one shard at a time.
    /// </summary>
    public static string Progress(string eventsSchema) =>
        $"select coalesce(max(last_seq_id), 0) from {eventsSchema}.mt_event_progression where name like '{SalesRankingSubscription.ShardName}:%'";

    /// <summary>
    /// Of the orders $1 (stream keys), the paid placements: order id, sequence, day. Hand-written: events of many
    /// streams filtered by type and JSON in one round trip, where Marten's event API fetches stream by stream.
    /// </summary>
    public static string PaidPlacements(string schema) =>
        $"""
         select (data ->> 'OrderId')::bigint, seq_id, ((data ->> 'At')::timestamptz at time zone 'UTC')::date
         from {schema}.mt_events
         where stream_id = any($1) and type = 'order_placed' and coalesce((data ->> 'Paid')::boolean, false)
         """;
}
