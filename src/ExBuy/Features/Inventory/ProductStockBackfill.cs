using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Inventory;

/// <summary>
/// Upgrades a database written before stock had its own table: products whose stock still lives only in their document
/// get their <c>product_stock</c> row, with the figures the document held. A product that already has its row is never
/// touched, so running it again changes nothing.
/// </summary>
public sealed class ProductStockBackfill(IDocumentStore store, ILogger<ProductStockBackfill> logger) : StartupBackfill(store, logger)
{
    protected override string Rows => "products written before the stock table with their product_stock rows";

    // Reads the old document fields; writes only the Inventory slice's own table.
    protected override string Sql => $"""
        insert into {ProductStock.Table(Store)} (product_id, stock, initial_stock)
        select p.id, coalesce((p.data ->> 'Stock')::int, 0), coalesce((p.data ->> 'InitialStock')::int, (p.data ->> 'Stock')::int, 0)
        from {Store.Options.DatabaseSchemaName}.mt_doc_product p
        where not exists (select 1 from {ProductStock.Table(Store)} s where s.product_id = p.id)
        on conflict (product_id) do nothing
        """;
}
