using ExBuy.Features.Catalog;
using ExBuy.Features.Inventory;
using Marten;

namespace ExBuy.Features.Orders;

/// <summary>An order to create: who, and which products in which quantities (a product may appear twice).</summary>
public sealed record NewOrder(long UserId, IReadOnlyList<StockLine> Lines);

/// <summary>Queues new orders and their <see cref="OrderPlaced"/> events in the stock-taking transaction.</summary>
public static class OrderWriter
{
    public static List<Order> Record(
        IDocumentSession session, IReadOnlyList<NewOrder> newOrders, IReadOnlyDictionary<long, Product> products, LockType lockType, DateTimeOffset now)
    {
        var orders = new List<Order>(newOrders.Count);
        foreach (var newOrder in newOrders)
        {
            var order = new Order { UserId = newOrder.UserId, Status = OrderStatuses.Pending, CreatedAt = now, UpdatedAt = now };
            session.Insert(order); // assigns the id, which the line ids derive from; nothing is written before the commit
            var items = newOrder.Lines.Select(l => new OrderedItem(l.ProductId, products[l.ProductId].Name, l.Quantity, products[l.ProductId].Price)).ToList();
            order.Items = items.Select((item, i) => new OrderLine
            {
                Id = Order.LineId(order.Id, i + 1),
                ProductId = item.ProductId,
                ProductName = item.ProductName,
                Quantity = item.Quantity,
                UnitPrice = item.UnitPrice,
                Subtotal = item.Subtotal,
            }).ToList();
            order.TotalPrice = order.Items.Sum(l => l.Subtotal);
            session.Events.StartStream(OrderStreams.Key(order.Id), new OrderPlaced(order.Id, order.UserId, items, order.TotalPrice, lockType.ToWire(), TookStock: true, now));
            orders.Add(order);
        }

        return orders;
    }
}
