using ExBuy.Features.Orders;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Projections;

namespace ExBuy.Features.Rankings;

/// <summary>Sales of one product, projected from order events. Cancelled orders are taken back out.</summary>
public sealed class ProductSales
{
    public long Id { get; set; }
    public string ProductName { get; set; } = string.Empty;
    public long TotalQuantity { get; set; }
    public decimal TotalRevenue { get; set; }
    public long OrderCount { get; set; }
}

/// <summary>
/// Fans each order event out to the products on it. Asynchronous (Marten's daemon applies events in sequence),
/// because an inline aggregate on a hot product would be a lost-update race between concurrent orders; the
/// price is a few hundred milliseconds of staleness. Rebuild from the events with
/// <c>dotnet ExBuy.dll projections --rebuild</c>.
/// </summary>
public sealed partial class ProductSalesProjection : MultiStreamProjection<ProductSales, long>
{
    public ProductSalesProjection()
    {
        Identities<OrderPlaced>(e => e.Items.Select(i => i.ProductId).Distinct().ToList());
        Identities<OrderCancelled>(e => e.Items.Select(i => i.ProductId).Distinct().ToList());
        Identities<OrderRevived>(e => e.Items.Select(i => i.ProductId).Distinct().ToList());
        IncludeType<OrderPlaced>();
        IncludeType<OrderCancelled>();
        IncludeType<OrderRevived>();
    }

    // Evolve rather than Apply methods: a fanned-out event needs the product id it is being applied to, and a
    // new document has no id yet when Apply runs.
    public override ProductSales Evolve(ProductSales? snapshot, long id, IEvent e)
    {
        var sales = snapshot ?? new ProductSales { Id = id };
        switch (e.Data)
        {
            case OrderPlaced placed:
                Add(sales, id, placed.Items, +1);
                break;
            case OrderCancelled cancelled:
                Add(sales, id, cancelled.Items, -1);
                break;
            case OrderRevived revived:
                Add(sales, id, revived.Items, +1);
                break;
        }

        return sales;
    }

    private static void Add(ProductSales sales, long productId, IReadOnlyList<OrderedItem> items, int sign)
    {
        var mine = items.Where(i => i.ProductId == productId).ToList();
        if (mine.Count == 0)
        {
            return;
        }

        sales.ProductName = mine[0].ProductName;
        sales.TotalQuantity += sign * mine.Sum(i => i.Quantity);
        sales.TotalRevenue += sign * mine.Sum(i => i.Subtotal);
        sales.OrderCount += sign;
    }
}

