using ExBuy.Features.Catalog;
using ExBuy.Features.Inventory;
using ExBuy.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ExBuy.Tests.Features.Inventory;

/// <summary>The atomic strategy's escrow: a hold taken in one statement, consumed with the sale or given back.</summary>
public sealed class StockHoldTests(AppFixture app) : IntegrationContext(app)
{
    private static readonly TimeProvider Clock = TimeProvider.System;

    private async Task<Dictionary<long, Product>> Current(params long[] ids)
    {
        await using var query = Store.QuerySession();
        return (await query.LoadManyAsync<Product>(Ct, ids)).ToDictionary(p => p.Id);
    }

    [Fact]
    public async Task a_hold_takes_every_line_or_none()
    {
        var (a, b) = (await Store.AddProduct(stock: 5), await Store.AddProduct(stock: 1));
        var priced = await Current(a.Id, b.Id);

        (await StockHolds.TakeAsync(Store, Guid.NewGuid(), [new(a.Id, 2), new(b.Id, 2)], priced, Clock.GetUtcNow(), Ct)).ShouldBeNull();
        (await Store.Reload(a.Id)).Stock.ShouldBe(5, "the line that fitted was not taken either");
        (await Store.Reload(b.Id)).Stock.ShouldBe(1);

        var taken = await StockHolds.TakeAsync(Store, Guid.NewGuid(), [new(a.Id, 2), new(b.Id, 1)], priced, Clock.GetUtcNow(), Ct);
        taken.ShouldNotBeNull();
        taken[a.Id].Stock.ShouldBe(3);
        taken[b.Id].Stock.ShouldBe(0);
        (await Host.Audit()).Ok.ShouldBeTrue("held stock counts in the ledger while the sale is being recorded");
    }

    [Fact]
    public async Task a_repriced_product_refuses_the_hold()
    {
        var product = await Store.AddProduct(price: 100m, stock: 5);
        var priced = await Current(product.Id);
        priced[product.Id].Price = 90m;

        (await StockHolds.TakeAsync(Store, Guid.NewGuid(), [new(product.Id, 1)], priced, Clock.GetUtcNow(), Ct)).ShouldBeNull();
        (await Store.Reload(product.Id)).Stock.ShouldBe(5);
    }

    [Fact]
    public async Task a_failed_sale_gives_its_hold_back()
    {
        var product = await Store.AddProduct(stock: 5);
        var atomic = Host.Services.GetRequiredService<StockStrategies>().For(LockType.Atomic);

        await Should.ThrowAsync<InvalidOperationException>(() =>
            atomic.TakeAsync([new(product.Id, 2)], (_, _) => throw new InvalidOperationException("the order could not be written"), Ct));

        (await Store.Reload(product.Id)).Stock.ShouldBe(5);
        (await Host.GetJson($"/api/flash-sales/{product.Id}/stock"))["redis_stock"]!.GetValue<int>().ShouldBe(5);
        (await Host.Audit()).Ok.ShouldBeTrue();
    }

    [Fact]
    public async Task the_sweeper_releases_holds_a_dead_request_left_behind()
    {
        var product = await Store.AddProduct(stock: 5);
        var priced = await Current(product.Id);
        var longAgo = Clock.GetUtcNow() - StockHolds.Abandoned - TimeSpan.FromSeconds(1);
        var fresh = Guid.NewGuid();
        (await StockHolds.TakeAsync(Store, Guid.NewGuid(), [new(product.Id, 2)], priced, longAgo, Ct)).ShouldNotBeNull();
        (await StockHolds.TakeAsync(Store, fresh, [new(product.Id, 1)], await Current(product.Id), Clock.GetUtcNow(), Ct)).ShouldNotBeNull();
        (await Store.Reload(product.Id)).Stock.ShouldBe(2);

        (await Host.Services.GetRequiredService<StockHoldSweeper>().SweepAsync(Ct)).ShouldBe(1, "only the abandoned hold");

        (await Store.Reload(product.Id)).Stock.ShouldBe(4);
        (await StockHolds.ReleaseAsync(Store, fresh, Ct)).Count.ShouldBe(1);
        (await StockHolds.ReleaseAsync(Store, fresh, Ct)).ShouldBeEmpty("a hold is given back once");
        (await Store.Reload(product.Id)).Stock.ShouldBe(5);
        (await Host.Audit()).Ok.ShouldBeTrue();
    }
}
