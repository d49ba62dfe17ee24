using ExBuy.Features.Catalog;
using ExBuy.Features.Inventory;
using ExBuy.Tests.Infrastructure;
using Marten;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Shouldly;
using StackExchange.Redis;

namespace ExBuy.Tests.Features.Inventory;

/// <summary>The atomic strategy's escrow: a hold taken in one statement, consumed with the sale or given back.</summary>
public sealed class StockHoldTests(AppFixture app) : IntegrationContext(app)
{
    [Fact]
    public async Task a_hold_takes_every_line_or_none()
    {
        var (a, b) = (await Store.AddProduct(stock: 5), await Store.AddProduct(stock: 1));

        (await StockHolds.TakeAsync(Store, Guid.NewGuid(), [new(a.Id, 2), new(b.Id, 2)], Ct)).ShouldBeNull();
        (await Store.Reload(a.Id)).Stock.ShouldBe(5, "the line that fitted was not taken either");
        (await Store.Reload(b.Id)).Stock.ShouldBe(1);

        var taken = await StockHolds.TakeAsync(Store, Guid.NewGuid(), [new(a.Id, 2), new(b.Id, 1)], Ct);
        taken.ShouldNotBeNull();
        taken[a.Id].ShouldBe(3);
        taken[b.Id].ShouldBe(0);
        (await Host.Audit()).Ok.ShouldBeTrue("held stock counts in the ledger while the sale is being recorded");
    }

    [Fact]
    public async Task a_hold_naming_a_product_without_a_stock_row_takes_nothing()
    {
        var (kept, gone) = (await Store.AddProduct(stock: 5), await Store.AddProduct(stock: 5));
        await Store.DropStockRow(gone.Id);
        var (mixed, onlyGone) = (Guid.NewGuid(), Guid.NewGuid());

        (await StockHolds.TakeAsync(Store, mixed, [new(kept.Id, 2), new(gone.Id, 1)], Ct)).ShouldBeNull();
        (await StockHolds.TakeAsync(Store, onlyGone, [new(gone.Id, 1)], Ct)).ShouldBeNull();

        (await Store.Reload(kept.Id)).Stock.ShouldBe(5, "the line whose row exists was not taken either");
        (await Store.HeldLines(mixed)).ShouldBe(0, "no line of the hold was recorded");
        (await StockHolds.SettleAsync(Store, mixed, [new(kept.Id, 2), new(gone.Id, 1)], Ct))
            .ShouldBeOfType<HoldFate.NeverTaken>("no hold row was written");
        (await StockHolds.SettleAsync(Store, onlyGone, [new(gone.Id, 1)], Ct)).ShouldBeOfType<HoldFate.NeverTaken>();
    }

    [Fact]
    public async Task takes_naming_the_same_products_in_opposite_orders_never_deadlock()
    {
        // Each take locks its rows in id order whatever the order of its lines: two takes crossing the same two products
        // in opposite orders, at once, many times, all succeed (a deadlock would fail one of a pair with 40P01).
        var (a, b) = (await Store.AddProduct(stock: 1_000), await Store.AddProduct(stock: 1_000));
        for (var round = 0; round < 100; round++)
        {
            var takes = await Task.WhenAll(
                Task.Run(() => StockHolds.TakeAsync(Store, Guid.NewGuid(), [new(a.Id, 1), new(b.Id, 1)], Ct)),
                Task.Run(() => StockHolds.TakeAsync(Store, Guid.NewGuid(), [new(b.Id, 1), new(a.Id, 1)], Ct)));
            takes.ShouldAllBe(t => t != null, $"round {round}");
        }

        (await Store.Reload(a.Id)).Stock.ShouldBe(800);
        (await Store.Reload(b.Id)).Stock.ShouldBe(800);
    }

    [Fact]
    public async Task a_sale_whose_work_queued_nothing_takes_nothing()
    {
        var product = await Store.AddProduct(stock: 5);
        var atomic = Host.Services.GetRequiredService<StockStrategies>().For(LockType.Atomic);

        await Should.ThrowAsync<InvalidOperationException>(() => atomic.TakeAsync([new(product.Id, 2)], _ => { }, Ct));

        (await Store.Reload(product.Id)).Stock.ShouldBe(5, "the hold was given back, not consumed by an empty sale");
        (await Host.GetJson($"/api/flash-sales/{product.Id}/stock"))["redis_stock"]!.GetValue<int>().ShouldBe(5);
        (await Host.Audit()).Ok.ShouldBeTrue();
    }

    [Fact]
    public async Task a_failed_sale_gives_its_hold_back()
    {
        var product = await Store.AddProduct(stock: 5);
        var atomic = Host.Services.GetRequiredService<StockStrategies>().For(LockType.Atomic);

        await Should.ThrowAsync<InvalidOperationException>(() =>
            atomic.TakeAsync([new(product.Id, 2)], _ => throw new InvalidOperationException("the order could not be written"), Ct));

        (await Store.Reload(product.Id)).Stock.ShouldBe(5);
        (await Host.GetJson($"/api/flash-sales/{product.Id}/stock"))["redis_stock"]!.GetValue<int>().ShouldBe(5);
        (await Host.Audit()).Ok.ShouldBeTrue();
    }

    [Fact]
    public async Task the_sweeper_releases_holds_a_dead_request_left_behind()
    {
        var product = await Store.AddProduct(stock: 5);
        var (abandoned, fresh) = (Guid.NewGuid(), Guid.NewGuid());
        (await StockHolds.TakeAsync(Store, abandoned, [new(product.Id, 2)], Ct)).ShouldNotBeNull();
        (await StockHolds.TakeAsync(Store, fresh, [new(product.Id, 1)], Ct)).ShouldNotBeNull();
        await Store.AgeHolds(abandoned);
        (await Store.Reload(product.Id)).Stock.ShouldBe(2);

        (await Host.Services.GetRequiredService<StockHoldSweeper>().SweepAsync(Ct)).ShouldBe(1, "only the abandoned hold");

        (await Store.Reload(product.Id)).Stock.ShouldBe(4);
        (await StockHolds.ReleaseAsync(Store, fresh, Ct)).Count.ShouldBe(1);
        (await StockHolds.ReleaseAsync(Store, fresh, Ct)).ShouldBeEmpty("a hold is given back once");
        (await Store.Reload(product.Id)).Stock.ShouldBe(5);
        (await Host.Audit()).Ok.ShouldBeTrue();
    }

    [Fact]
    public async Task a_request_that_gave_up_before_its_take_landed_makes_the_take_fail()
    {
        var product = await Store.AddProduct(stock: 5);
        var hold = Guid.NewGuid();

        (await StockHolds.SettleAsync(Store, hold, [new(product.Id, 2)], Ct)).ShouldBeOfType<HoldFate.NeverTaken>();

        (await StockHolds.TakeAsync(Store, hold, [new(product.Id, 2)], Ct))
            .ShouldBeNull("the take arrived after its request settled it as never taken");
        (await Store.Reload(product.Id)).Stock.ShouldBe(5);
    }

    [Fact]
    public async Task settling_tells_a_released_hold_from_one_the_sweeper_released()
    {
        var product = await Store.AddProduct(stock: 5);
        var (mine, swept) = (Guid.NewGuid(), Guid.NewGuid());
        (await StockHolds.TakeAsync(Store, mine, [new(product.Id, 1)], Ct)).ShouldNotBeNull();
        (await StockHolds.TakeAsync(Store, swept, [new(product.Id, 2)], Ct)).ShouldNotBeNull();
        await Store.AgeHolds(swept);
        await Host.Services.GetRequiredService<StockHoldSweeper>().SweepAsync(Ct);

        (await StockHolds.SettleAsync(Store, mine, [new(product.Id, 1)], Ct)).ShouldBeOfType<HoldFate.Released>().Lines.ShouldBe([new StockLine(product.Id, 1)]);
        (await StockHolds.SettleAsync(Store, swept, [new(product.Id, 2)], Ct)).ShouldBeOfType<HoldFate.ReleasedByOther>();
        (await Store.Reload(product.Id)).Stock.ShouldBe(5);
    }

    [Fact]
    public async Task the_sweeper_survives_redis_failing_and_the_reconciler_puts_redis_back_in_step()
    {
        var productId = await Host.SetUpFlashSale(5);
        var redisStock = Host.Services.GetRequiredService<RedisStock>();
        (await redisStock.TryTakeAsync([new(productId, 2)])).ShouldBe(0);
        (await StockHolds.TakeAsync(Store, Guid.NewGuid(), [new(productId, 2)], Ct)).ShouldNotBeNull();
        await Store.AgeHolds();

        await using (var unreachable = await ConnectionMultiplexer.ConnectAsync("127.0.0.1:1,abortConnect=false,connectTimeout=200,syncTimeout=200,asyncTimeout=200"))
        {
            var sweeper = new StockHoldSweeper(
                Store,
                new RedisStock(unreachable, Store),
                Options.Create(new StockRecoveryOptions()),
                TimeProvider.System,
                NullLogger<StockHoldSweeper>.Instance);
            (await sweeper.SweepAsync(Ct)).ShouldBe(1, "the hold is released in PostgreSQL although Redis cannot be told");
        }

        (await Store.Reload(productId)).Stock.ShouldBe(5);
        (await redisStock.GetAsync(productId)).ShouldBe(3);
        var reconciler = Host.Services.GetRequiredService<StockReconciler>();
        await reconciler.ReconcileAsync(Ct);
        await reconciler.ReconcileAsync(Ct);
        (await redisStock.GetAsync(productId)).ShouldBe(5);
        await Host.ShouldPassAudit();
    }
}
