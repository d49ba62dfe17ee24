using ExBuy.Features.Inventory;
using ExBuy.Features.Orders;
using ExBuy.Features.Orders.ChangeOrderStatus;
using Shouldly;

namespace ExBuy.UnitTests.Deciders;

public sealed class ChangeOrderStatusDeciderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static Order Order(string status, bool placedWithStock = true, bool holdsStock = true) => new()
    {
        Id = 11,
        UserId = 1,
        Status = status,
        PlacedWithStock = placedWithStock,
        HoldsStock = holdsStock,
        Items =
        [
            new OrderLine { Id = 1101, ProductId = 5, ProductName = "p5", Quantity = 2, UnitPrice = 10, Subtotal = 20 },
            new OrderLine { Id = 1102, ProductId = 3, ProductName = "p3", Quantity = 1, UnitPrice = 4, Subtotal = 4 },
            new OrderLine { Id = 1103, ProductId = 5, ProductName = "p5", Quantity = 1, UnitPrice = 10, Subtotal = 10 },
        ],
        Version = 3,
    };

    private static StatusDecision Decide(Order? order, string to, LockType lockType = LockType.Atomic) =>
        ChangeOrderStatusDecider.Decide(new ChangeOrderStatus(11, to, lockType), new OrderState(order), Now);

    [Fact]
    public void a_missing_order_is_not_found() => Decide(null, OrderStatuses.Shipped).ShouldBeOfType<StatusDecision.NotFound>();

    [Fact]
    public void the_same_status_stores_nothing() =>
        Decide(Order(OrderStatuses.Shipped), OrderStatuses.Shipped).ShouldBeOfType<StatusDecision.Unchanged>();

    [Fact]
    public void an_ordinary_move_records_only_the_change_and_keeps_the_stock()
    {
        var move = Decide(Order(OrderStatuses.Pending), OrderStatuses.Shipped).ShouldBeOfType<StatusDecision.Move>();
        move.Returned.ShouldBeEmpty();
        move.HoldsStockAfter.ShouldBeTrue();
        move.Events.ShouldBe([new OrderStatusChanged(11, OrderStatuses.Pending, OrderStatuses.Shipped, Now)]);
    }

    [Fact]
    public void cancelling_an_order_that_holds_stock_gives_it_back_summed_per_product()
    {
        var move = Decide(Order(OrderStatuses.Processing), OrderStatuses.Cancelled).ShouldBeOfType<StatusDecision.Move>();
        move.Returned.ShouldBe([new StockLine(3, 1), new StockLine(5, 3)]);
        move.HoldsStockAfter.ShouldBeFalse();
        move.Events[0].ShouldBeOfType<OrderCancelled>().ReturnedStock.ShouldBeTrue();
        move.Events[1].ShouldBe(new OrderStatusChanged(11, OrderStatuses.Processing, OrderStatuses.Cancelled, Now));
    }

    [Fact]
    public void cancelling_a_historical_order_returns_nothing()
    {
        var move = Decide(Order(OrderStatuses.Delivered, placedWithStock: false, holdsStock: false), OrderStatuses.Cancelled)
            .ShouldBeOfType<StatusDecision.Move>();
        move.Returned.ShouldBeEmpty();
        move.Events[0].ShouldBeOfType<OrderCancelled>().ReturnedStock.ShouldBeFalse();
    }

    [Theory]
    [InlineData(LockType.Atomic, "atomic")]
    [InlineData(LockType.Redlock, "redlock")]
    public void reviving_an_order_placed_with_stock_takes_it_again_with_the_strategy(LockType lockType, string wire)
    {
        var revive = Decide(Order(OrderStatuses.Cancelled, holdsStock: false), OrderStatuses.Pending, lockType).ShouldBeOfType<StatusDecision.Revive>();
        revive.Demand.ShouldBe([new StockLine(3, 1), new StockLine(5, 3)]);
        var revived = revive.Events[0].ShouldBeOfType<OrderRevived>();
        revived.TookStock.ShouldBeTrue();
        revived.LockType.ShouldBe(wire);
        revive.Events[1].ShouldBe(new OrderStatusChanged(11, OrderStatuses.Cancelled, OrderStatuses.Pending, Now));
    }

    [Fact]
    public void reviving_a_historical_order_takes_no_stock()
    {
        var move = Decide(Order(OrderStatuses.Cancelled, placedWithStock: false, holdsStock: false), OrderStatuses.Shipped)
            .ShouldBeOfType<StatusDecision.Move>();
        move.Returned.ShouldBeEmpty();
        move.HoldsStockAfter.ShouldBeFalse();
        var revived = move.Events[0].ShouldBeOfType<OrderRevived>();
        revived.TookStock.ShouldBeFalse();
        revived.LockType.ShouldBe("none");
    }
}
