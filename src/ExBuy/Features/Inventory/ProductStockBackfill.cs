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
    protected override string Sql => InventorySql.BackfillStockRows(Store);
}
