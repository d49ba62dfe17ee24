using ExBuy.Features.Inventory;
using Marten;

namespace ExBuy.Features.FlashSale;

/// <summary>
/// The FlashSale module's hand-written statements, in one place. The indexes they rely on are DDL of the module's
/// schema feature (<see cref="FlashSaleStock.StockEventIndexes"/>), kept with it.
/// </summary>
public static class FlashSaleSql
{
    /// <summary>
    /// One product's stock beside the sums of its own events ($1 product id, $2 <c>[{"ProductId":id}]</c> as jsonb),
    /// see <see cref="FlashSaleStock.ProductLedger"/>. Hand-written: it reads Marten's <c>mt_events</c> through the GIN and
    /// partial indexes of <see cref="FlashSaleStock.StockEventIndexes"/> (<c>@&gt;</c> on the items), which no Marten
    /// query API expresses, beside Inventory's Weasel tables.
    /// </summary>
    public static string ProductLedger(IDocumentStore store)
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
}
