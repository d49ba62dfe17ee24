using ExBuy.Features.Catalog;
using ExBuy.Features.Inventory;
using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Orders;

/// <summary>An order to create: who, and which products in which quantities (a product may appear twice).</summary>
public sealed record NewOrder(long UserId, IReadOnlyList<StockLine> Lines);

/// <summary>What orders need before their stock is taken: the products by id, the ids not found, the orders numbered.</summary>
public sealed record PreparedOrders(IReadOnlyDictionary<long, Product> Products, IReadOnlyList<long> Missing, List<Order> Orders);

/// <summary>Numbers new orders, then queues them and their <see cref="OrderPlaced"/> events in the stock-taking transaction.</summary>
public static class OrderWriter
{
    /// <summary>
    /// In one round trip, before any lock is taken: the products the orders name, to price them from (a product's price is
    /// fixed for its life), the ids of those that do not exist, and the orders numbered (see <see cref="IdSequences"/>).
    /// </summary>
    public static async Task<PreparedOrders> PrepareAsync(IDocumentStore store, IReadOnlyList<NewOrder> newOrders, CancellationToken ct)
    {
        var ids = newOrders.SelectMany(o => o.Lines).Select(l => l.ProductId).Distinct().Order().ToArray();
        await using var session = store.QuerySession();
        var batch = session.CreateBatchQuery();
        var loaded = batch.LoadMany<Product>().ById(ids);
        var numbers = AllocateAsync(batch, store, newOrders);
        await batch.Execute(ct);
        var products = (await loaded).ToDictionary(p => p.Id);
        return new PreparedOrders(products, ids.Where(id => !products.ContainsKey(id)).ToList(), await numbers);
    }

    /// <summary>Numbers the orders in the caller's batched query (no round trip of their own).</summary>
    public static async Task<List<Order>> AllocateAsync(Marten.Services.BatchQuerying.IBatchedQuery batch, IDocumentStore store, IReadOnlyList<NewOrder> newOrders)
    {
        var ids = await IdSequences.NextAsync<Order>(batch, store, newOrders.Count);
        return newOrders.Select((n, i) => new Order { Id = ids[i], UserId = n.UserId, Status = OrderStatuses.Pending }).ToList();
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
