using ExBuy.Features.Inventory;
using ExBuy.Features.Orders;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Features.Audit;

/// <summary>The audit is only worth something if it catches each kind of damage; each test does one kind behind the API's back.</summary>
public sealed class AuditTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task a_clean_shop_passes()
    {
        var product = await Store.AddProduct(stock: 10);
        await Host.PlaceOrder(1, $$"""[{"product_id":{{product.Id}},"quantity":3}]""", "atomic");
        await Host.ShouldPassAudit();
    }

    [Fact]
    public async Task stock_changed_without_an_event_is_reported()
    {
        var product = await Store.AddProduct(stock: 10);
        await using (var session = Store.LightweightSession())
        {
            await session.BeginTransactionAsync(Ct);
            await ProductStockSql.OverwriteAsync(session, product.Id, -1, DateTimeOffset.UtcNow, Ct);
            ProductStockSql.EnsureCommit(session);
            await session.SaveChangesAsync(Ct);
        }

        var audit = await Host.Audit();
        audit.Ok.ShouldBeFalse();
        audit.Violations.Select(v => v.Invariant).ShouldBe(["no_negative_stock", "stock_matches_ledger"], ignoreOrder: true);
    }

    [Fact]
    public async Task redis_stock_out_of_step_is_reported()
    {
        var productId = await Host.SetUpFlashSale(10);
        await Host.Services.GetRequiredService<RedisStock>().InitializeAsync(productId, 7, overwrite: true);

        var audit = await Host.Audit();
        audit.Violations.ShouldHaveSingleItem().Invariant.ShouldBe("redis_stock_matches_database");
    }

    [Fact]
    public async Task an_order_total_that_does_not_add_up_is_reported()
    {
        var product = await Store.AddProduct(stock: 10, price: 10m);
        var order = await Host.PlaceOrder(1, $$"""[{"product_id":{{product.Id}},"quantity":2}]""");
        await using (var session = Store.LightweightSession())
        {
            var doc = await session.LoadAsync<Order>(order["id"]!.GetValue<long>(), Ct);
            doc!.TotalPrice = 15m;
            session.Update(doc);
            await session.SaveChangesAsync(Ct);
        }

        (await Host.Audit()).Violations.ShouldHaveSingleItem().Invariant.ShouldBe("order_total_matches_items");
    }
}
