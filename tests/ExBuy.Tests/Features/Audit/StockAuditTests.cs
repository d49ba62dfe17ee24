using ExBuy.Features.Catalog;
using ExBuy.Features.Inventory;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;
using StackExchange.Redis;

namespace ExBuy.Tests.Features.Audit;

/// <summary>The stock checks of the audit, each shown a store in which exactly its invariant is broken.</summary>
public sealed class StockAuditTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task redis_stock_key_present_catches_a_missing_key()
    {
        var productId = await Host.SetUpFlashSale(10);
        await Host.ShouldPassAudit();

        await Host.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase().KeyDeleteAsync(RedisStock.Key(productId));

        var violation = (await Host.Audit()).Violations.ShouldHaveSingleItem();
        violation.Invariant.ShouldBe("redis_stock_key_present");
        violation.Subject.ShouldBe($"product {productId}");
    }

    [Fact]
    public async Task stock_hold_abandoned_catches_a_hold_older_than_the_sweep_window()
    {
        var product = await Store.AddProduct(stock: 5);
        (await StockHolds.TakeAsync(Store, Guid.NewGuid(), [new(product.Id, 2)], Ct)).ShouldNotBeNull();

        await Host.ShouldPassAudit(); // a fresh hold is a sale being recorded
        await Store.AgeHolds();

        var violation = (await Host.Audit()).Violations.ShouldHaveSingleItem();
        violation.Invariant.ShouldBe("stock_hold_abandoned");
        violation.Subject.ShouldBe($"product {product.Id}");
    }

    [Fact]
    public async Task redis_stock_above_the_database_is_reported()
    {
        var productId = await Host.SetUpFlashSale(10);
        await Host.Services.GetRequiredService<RedisStock>().InitializeAsync(productId, 13, overwrite: true);

        var violation = (await Host.Audit()).Violations.ShouldHaveSingleItem();
        violation.Invariant.ShouldBe("redis_stock_matches_database");
        violation.Detail.ShouldBe("Redis 13, database 10");
    }
}
