namespace ExBuy.Features.Orders;

/// <summary>One line as the events record it: the price and name captured when the order was placed.</summary>
public sealed record OrderedItem(long ProductId, string ProductName, int Quantity, decimal UnitPrice)
{
    public decimal Subtotal => UnitPrice * Quantity;
}

/// <summary>
/// An order was placed. <see cref="TookStock"/> is false only for historical orders loaded by the seeder,
/// which never took stock; the audit counts the others against each product's stock. <see cref="Paid"/> marks a
/// shop-flow order paid from the balance (<c>POST /orders</c>): those feed the sales ranking (events written before
/// the flag existed read as false).
/// </summary>
public sealed record OrderPlaced(long OrderId, long UserId, IReadOnlyList<OrderedItem> Items, decimal Total, string LockType, bool TookStock, DateTimeOffset At, bool Paid = false);

public sealed record OrderStatusChanged(long OrderId, string From, string To, DateTimeOffset At);

/// <summary>An order was cancelled; <see cref="ReturnedStock"/> when its items' stock went back to the products.</summary>
public sealed record OrderCancelled(long OrderId, IReadOnlyList<OrderedItem> Items, bool ReturnedStock, DateTimeOffset At);

/// <summary>A cancelled order was set to a live status again; <see cref="TookStock"/> when its stock was taken again.</summary>
public sealed record OrderRevived(long OrderId, string To, IReadOnlyList<OrderedItem> Items, bool TookStock, string LockType, DateTimeOffset At);

public static class OrderStreams
{
    public static string Key(long orderId) => $"order-{orderId}";
}
