using ExBuy.Features.Inventory;

namespace ExBuy.Features.Orders.ChangeOrderStatus;

/// <summary>Move order <see cref="OrderId"/> to <see cref="Status"/>; a revival that takes stock uses <see cref="LockType"/>.</summary>
public sealed record ChangeOrderStatus(long OrderId, string Status, LockType LockType);

public abstract record StatusDecision
{
    private StatusDecision()
    {
    }

    public sealed record NotFound : StatusDecision;

    /// <summary>Already in that status: nothing to store, answer the order as it is.</summary>
    public sealed record Unchanged(Order Order) : StatusDecision;

    /// <summary>
    /// A change that takes no stock: an ordinary move, a cancellation (giving back <see cref="Returned"/>, empty when
    /// the order holds none), or reviving a historical order that never took any.
    /// </summary>
    public sealed record Move(string From, string To, IReadOnlyList<StockLine> Returned, bool HoldsStockAfter, IReadOnlyList<object> Events)
        : StatusDecision;

    /// <summary>Reviving a cancelled order that was placed with stock: take <see cref="Demand"/> again with the strategy.</summary>
    public sealed record Revive(string From, string To, IReadOnlyList<StockLine> Demand, IReadOnlyList<object> Events) : StatusDecision;
}

/// <summary>
/// The rules of a status change, without I/O. Any valid status may follow any other, as in the original. Cancelling
/// gives the stock back exactly once (only an order that holds it); reviving an order placed with stock takes it
/// again; historical seeded orders never took stock, so their changes move none.
/// </summary>
public static class ChangeOrderStatusDecider
{
    public static StatusDecision Decide(ChangeOrderStatus command, Order? order, DateTimeOffset now)
    {
        if (order is null)
        {
            return new StatusDecision.NotFound();
        }

        var (from, to) = (order.Status, command.Status);
        if (from == to)
        {
            return new StatusDecision.Unchanged(order);
        }

        var items = Items(order);
        var changed = new OrderStatusChanged(order.Id, from, to, now);
        if (from == OrderStatuses.Cancelled && order.PlacedWithStock)
        {
            return new StatusDecision.Revive(from, to, Demand(order),
                [new OrderRevived(order.Id, to, items, TookStock: true, command.LockType.ToWire(), now), changed]);
        }

        if (to == OrderStatuses.Cancelled)
        {
            var returned = order.HoldsStock ? Demand(order) : [];
            return new StatusDecision.Move(from, to, returned, HoldsStockAfter: false,
                [new OrderCancelled(order.Id, items, ReturnedStock: returned.Count > 0, now), changed]);
        }

        IReadOnlyList<object> events = from == OrderStatuses.Cancelled
            ? [new OrderRevived(order.Id, to, items, TookStock: false, "none", now), changed]
            : [changed];
        return new StatusDecision.Move(from, to, [], order.HoldsStock, events);
    }

    private static IReadOnlyList<StockLine> Demand(Order order) =>
        StockDecider.Demand(order.Items.Select(l => new StockLine(l.ProductId, l.Quantity)));

    private static List<OrderedItem> Items(Order order) =>
        order.Items.Select(l => new OrderedItem(l.ProductId, l.ProductName, l.Quantity, l.UnitPrice)).ToList();
}
