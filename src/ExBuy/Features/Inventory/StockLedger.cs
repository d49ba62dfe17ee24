using Marten;
using Npgsql;

namespace ExBuy.Features.Inventory;

/// <summary>A product's stock beside what its events say it should be.</summary>
public sealed record StockLedgerRow(long ProductId, int Stock, int InitialStock, long Sold, long Returned, long Held = 0)
{
    /// <summary>Held: taken by the atomic strategy for a sale that is being recorded right now (<see cref="StockHolds"/>).</summary>
    public long Expected => InitialStock - Sold + Returned - Held;
}

/// <summary>
/// Recomputes every product's stock from the events in one statement (one snapshot, so in-flight orders never
/// show half-applied): sold = items of stock-taking orders + reservations and flash-sale purchases,
/// returned = items of cancelled orders.
/// </summary>
public static class StockLedger
{
    public static async Task<List<StockLedgerRow>> ReadAsync(NpgsqlDataSource db, IDocumentStore store, IReadOnlyCollection<long>? productIds, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await ReadAsync(connection, store, productIds, ct);
    }

    /// <summary>The same on the caller's connection, in its transaction if it has one (the audit's snapshot).</summary>
    public static async Task<List<StockLedgerRow>> ReadAsync(NpgsqlConnection connection, IDocumentStore store, IReadOnlyCollection<long>? productIds, CancellationToken ct)
    {
        var events = store.Options.Events.DatabaseSchemaName;
        await using var command = new NpgsqlCommand($"""
            with taken as (
                select (i ->> 'ProductId')::bigint as product_id, (i ->> 'Quantity')::bigint as quantity
                from {events}.mt_events e, jsonb_array_elements(e.data -> 'Items') i
                where e.type = 'order_placed' and (e.data ->> 'TookStock')::boolean
                union all
                select (i ->> 'ProductId')::bigint, (i ->> 'Quantity')::bigint
                from {events}.mt_events e, jsonb_array_elements(e.data -> 'Items') i
                where e.type = 'order_revived' and (e.data ->> 'TookStock')::boolean
                union all
                select (data ->> 'ProductId')::bigint, (data ->> 'Quantity')::bigint
                from {events}.mt_events where type = 'stock_reserved'
            ),
            returned as (
                select (i ->> 'ProductId')::bigint as product_id, (i ->> 'Quantity')::bigint as quantity
                from {events}.mt_events e, jsonb_array_elements(e.data -> 'Items') i
                where e.type = 'order_cancelled' and (e.data ->> 'ReturnedStock')::boolean
            ),
            sold as (select product_id, sum(quantity) as quantity from taken group by product_id),
            back as (select product_id, sum(quantity) as quantity from returned group by product_id),
            held as (select product_id, sum(quantity) as quantity from {StockHolds.Table(store)} where state = 'held' group by product_id)
            select p.product_id, p.stock, p.initial_stock,
                   coalesce(s.quantity, 0), coalesce(b.quantity, 0), coalesce(h.quantity, 0)
            from {ProductStock.Table(store)} p
            left join sold s on s.product_id = p.product_id
            left join back b on b.product_id = p.product_id
            left join held h on h.product_id = p.product_id
            where $1::bigint[] is null or p.product_id = any($1)
            order by p.product_id
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<long[]?> { TypedValue = productIds?.ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bigint });
        var rows = new List<StockLedgerRow>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new StockLedgerRow(reader.GetInt64(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5)));
        }

        return rows;
    }

    /// <summary>
    /// Holds still open longer than <paramref name="olderThan"/>, per product: a sweeper that is not running, or failing.
    /// Ages use the database clock (in a transaction: its start).
    /// </summary>
    public static async Task<List<(long ProductId, long Quantity, DateTimeOffset Since)>> AbandonedHoldsAsync(
        NpgsqlConnection connection, IDocumentStore store, TimeSpan olderThan, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"""
            select product_id, sum(quantity), min(created_at) from {StockHolds.Table(store)}
            where state = 'held' and created_at < now() - $1 group by product_id order by product_id
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = olderThan });
        var rows = new List<(long, long, DateTimeOffset)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2)));
        }

        return rows;
    }

    /// <summary>The existing products recorded as having a Redis stock key (<see cref="RedisStockGates"/>).</summary>
    public static async Task<List<long>> GatedProductsAsync(NpgsqlConnection connection, IDocumentStore store, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"""
            select g.product_id from {RedisStockGates.Table(store)} g
            join {ProductStock.Table(store)} p on p.product_id = g.product_id order by g.product_id
            """, connection);
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }
}
