using ExBuy.Features.Inventory;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Features.Inventory;

/// <summary>A database written before stock had its own table keeps its stock after the upgrade.</summary>
public sealed class ProductStockBackfillTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task products_whose_stock_lived_in_the_document_get_their_row_once()
    {
        var legacy = await Store.AddProduct(stock: 3);
        var current = await Store.AddProduct(stock: 5);
        await Host.PostJson($"/api/inventory/reserve?lock_type=row", $$"""{"product_id":{{current.Id}},"quantity":2}""", 200);

        // The old layout: the figures inside the product's JSON, no stock row.
        await using (var session = Store.LightweightSession())
        {
            session.QueueSqlCommand($"delete from {ProductStock.Table(Store)} where product_id = ?", legacy.Id);
            session.QueueSqlCommand(
                $"update {Store.Options.DatabaseSchemaName}.mt_doc_product set data = data || jsonb_build_object('Stock', 7, 'InitialStock', 9) where id = ?", legacy.Id);
            await session.SaveChangesAsync(Ct);
        }

        var backfill = ActivatorUtilities.CreateInstance<ProductStockBackfill>(Host.Services);
        await backfill.StartAsync(Ct);
        await backfill.StartAsync(Ct); // a second start changes nothing

        var upgraded = await Store.Reload(legacy.Id);
        upgraded.Stock.ShouldBe(7);
        upgraded.InitialStock.ShouldBe(9);
        (await Store.Reload(current.Id)).Stock.ShouldBe(3, "a product that had its row keeps it untouched");
    }
}
