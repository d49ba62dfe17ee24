using ExBuy.Features.Inventory;
using Marten;
using Npgsql;

namespace ExBuy.Features.FlashSale.FlashSaleStock;

/// <summary>
/// One product's stock beside what its events say it should be — the same sums as <see cref="StockLedger"/>, read from
/// that product's events only (through <see cref="StockEventIndexes"/>), so the flash-sale check costs the same whatever
/// else the shop has sold. Each order event is found by its items containing the product (<c>@&gt;</c>, the GIN index),
/// each reservation or purchase by its product id (the partial index).
/// </summary>
public static class ProductLedger
{
    public static string Sql(IDocumentStore store)
    {
        var events = store.Options.Events.DatabaseSchemaName;
        return $"""
            with taken as (
                select (i ->> 'Quantity')::bigint as quantity
                from {events}.mt_events e, jsonb_array_elements(e.data -> 'Items') i
                where e.data -> 'Items' @> $2::jsonb and e.type in ('order_placed', 'order_revived') and (e.data ->> 'TookStock')::boolean
                  and (i ->> 'ProductId')::bigint = $1
                union all
                select (data ->> 'Quantity')::bigint
                from {events}.mt_events where type = 'stock_reserved' and data ->> 'ProductId' = $1::text
            ),
            returned as (
                select (i ->> 'Quantity')::bigint as quantity
                from {events}.mt_events e, jsonb_array_elements(e.data -> 'Items') i
                where e.data -> 'Items' @> $2::jsonb and e.type = 'order_cancelled' and (e.data ->> 'ReturnedStock')::boolean
                  and (i ->> 'ProductId')::bigint = $1
            )
            select p.product_id, p.stock, p.initial_stock,
                   (select coalesce(sum(quantity), 0) from taken)::bigint,
                   (select coalesce(sum(quantity), 0) from returned)::bigint,
                   (select coalesce(sum(quantity), 0) from {StockHolds.Table(store)} where state = 'held' and product_id = $1)::bigint
            from {ProductStock.Table(store)} p
            where p.product_id = $1
            """;
    }

    /// <summary>The parameters of <see cref="Sql"/> for <paramref name="productId"/>.</summary>
    public static NpgsqlParameter[] Parameters(long productId) =>
    [
        new NpgsqlParameter<long> { TypedValue = productId },
        new NpgsqlParameter<string> { TypedValue = $$"""[{"ProductId":{{productId}}}]""", NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Jsonb },
    ];

    public static async Task<StockLedgerRow?> ReadAsync(NpgsqlDataSource db, IDocumentStore store, long productId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var command = new NpgsqlCommand(Sql(store), connection);
        command.Parameters.AddRange(Parameters(productId));
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new StockLedgerRow(reader.GetInt64(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5))
            : null;
    }
}
