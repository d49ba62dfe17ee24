using ExBuy.Features.Balance;
using ExBuy.Features.Coupons;
using ExBuy.Features.Inventory;

namespace ExBuy.Features.Orders.ChangeOrderStatus;

/// <summary>Move order <see cref="OrderId"/> to <see cref="Status"/>; a revival that takes stock uses <see cref="LockType"/>.</summary>
public sealed record ChangeOrderStatus(long OrderId, string Status, LockType LockType);

/// <summary>What the decision reads: the order and, for a paid order, its coupon and the user's balance.</summary>
public sealed record OrderState(Order? Order, Coupon? Coupon = null, UserBalance? Balance = null);

public abstract record StatusDecision
{
    private StatusDecision()
    {
    }

    public sealed record NotFound : StatusDecision;

    public sealed record Refuse(int Status, string Message) : StatusDecision;

    /// <summary>Already in that status: nothing to store, answer the order as it is.</summary>
    public sealed record Unchanged(Order Order) : StatusDecision;

    /// <summary>
    /// A change that takes no stock: an ordinary move, a cancellation (giving back <see cref="Returned"/>, empty when
    /// the order holds none; for a paid order also its debit, <see cref="Refund"/>, and its coupon,
    /// <see cref="ReleasedCoupon"/>), or reviving a historical order that never took any.
    /// </summary>
    public sealed record Move(
        string From,
        string To,
        IReadOnlyList<StockLine> Returned,
        bool HoldsStockAfter,
        IReadOnlyList<object> Events,
        RefundDue? Refund = null,
        Coupon? ReleasedCoupon = null) : StatusDecision;

    /// <summary>A paid order's debit given back, appended at the balance version the decision read.</summary>
    public sealed record RefundDue(long UserId, decimal Amount, long OrderId, DateTimeOffset At, long BalanceVersion);

    /// <summary>Reviving a cancelled order that was placed with stock: take <see cref="Demand"/> again with the strategy.</summary>
    public sealed record Revive(string From, string To, IReadOnlyList<StockLine> Demand, IReadOnlyList<object> Events) : StatusDecision;
}

/// <summary>
/// The rules of a status change, without I/O. Any valid status may follow any other, as in the original. Cancelling
/// gives the stock back exactly once (only an order that holds it); cancelling a paid order also refunds its debit and
/// frees its coupon, once. Reviving an order placed with stock takes it again; a cancelled paid order is not revived
/// (its money went back: the customer places a new order). Historical seeded orders never took stock, so their
/// changes move none.
/// </summary>
public static class ChangeOrderStatusDecider
{
    public static StatusDecision Decide(ChangeOrderStatus command, OrderState state, DateTimeOffset now)
    {
        var (order, coupon, balance) = state;
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
        if (from == OrderStatuses.Cancelled && order.Paid)
        {
            return new StatusDecision.Refuse(409, $"Order {order.Id} was paid and cancelled, and its payment refunded: it cannot be revived. Place a new order.");
        }

        if (from == OrderStatuses.Cancelled && order.PlacedWithStock)
        {
            return new StatusDecision.Revive(from, to, Demand(order),
                [new OrderRevived(order.Id, to, items, TookStock: true, command.LockType.ToWire(), now), changed]);
        }

        if (to == OrderStatuses.Cancelled)
        {
            var returned = order.HoldsStock ? Demand(order) : [];
            var refund = order.Paid
                ? new StatusDecision.RefundDue(order.UserId, order.TotalPrice, order.Id, now, balance?.Version ?? 0)
                : null;
            var released = order.Paid && coupon?.UsedByOrderId == order.Id ? coupon : null;
            return new StatusDecision.Move(from, to, returned, HoldsStockAfter: false,
                [new OrderCancelled(order.Id, items, ReturnedStock: returned.Count > 0, now), changed], refund, released);
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
