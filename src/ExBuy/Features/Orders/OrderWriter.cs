using ExBuy.Features.Catalog;
using ExBuy.Features.Inventory;
using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Orders;

/// <summary>An order to create: who, and which products in which quantities (a product may appear twice).</summary>
public sealed record NewOrder(long UserId, IReadOnlyList<StockLine> Lines);

/// <summary>Numbers new orders, then queues them and their <see cref="OrderPlaced"/> events in the stock-taking transaction.</summary>
public static class OrderWriter
{
    /// <summary>Numbers the orders before any lock is taken (see <see cref="IdSequences"/>).</summary>
    public static async Task<List<Order>> AllocateAsync(IDocumentStore store, IReadOnlyList<NewOrder> newOrders, CancellationToken ct)
    {
        var ids = await IdSequences.NextAsync<Order>(store, newOrders.Count, ct);
        return newOrders.Select((n, i) => new Order { Id = ids[i], UserId = n.UserId, Status = OrderStatuses.Pending }).ToList();
    }

    /// <summary>
    /// The products the orders name, to price them from (a product's price is fixed for its life), and the ids of those
    /// that do not exist. One round trip.
    /// </summary>
    public static async Task<(IReadOnlyDictionary<long, Product> Products, IReadOnlyList<long> Missing)> LoadProductsAsync(
        IDocumentStore store, IReadOnlyList<NewOrder> newOrders, CancellationToken ct)
    {
        var ids = newOrders.SelectMany(o => o.Lines).Select(l => l.ProductId).Distinct().Order().ToList();
        await using var session = store.QuerySession();
        var products = (await session.LoadManyAsync<Product>(ct, ids)).ToDictionary(p => p.Id);
        return (products, ids.Where(id => !products.ContainsKey(id)).ToList());
    }

    /// <summary>Fills the allocated orders from the products and queues them with their events. Safe to call once per attempt.</summary>
    public static void Record(
        IDocumentSession session,
        IReadOnlyList<Order> orders,
        IReadOnlyList<NewOrder> newOrders,
        IReadOnlyDictionary<long, Product> products,
        LockType lockType,
        DateTimeOffset now,
        bool paid = false)
    {
        for (var n = 0; n < orders.Count; n++)
        {
            var order = orders[n];
            var items = newOrders[n].Lines
                .Select(l => new OrderedItem(l.ProductId, products[l.ProductId].Name, l.Quantity, products[l.ProductId].Price))
                .ToList();
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
            order.PlacedWithStock = true;
            order.HoldsStock = true;
            order.CreatedAt = now;
            order.UpdatedAt = now;
            order.Version = 0;
            session.Insert(order);
            session.Events.StartStream(OrderStreams.Key(order.Id), new OrderPlaced(order.Id, order.UserId, items, order.TotalPrice, lockType.ToWire(), TookStock: true, now, paid));
        }
    }
}
