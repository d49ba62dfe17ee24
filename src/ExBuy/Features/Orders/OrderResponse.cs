using System.Text.Json.Serialization;
using ExBuy.Features.Catalog;
using ExBuy.Infrastructure.Http;
using Marten;

namespace ExBuy.Features.Orders;

public sealed record OrderLineResponse(
    long Id,
    long Product,
    string ProductName,
    int Quantity,
    [property: JsonConverter(typeof(MoneyJsonConverter))] decimal UnitPrice,
    [property: JsonConverter(typeof(MoneyJsonConverter))] decimal Subtotal);

/// <summary>The order detail every order route answers with.</summary>
public sealed record OrderResponse(
    long Id,
    long UserId,
    string Status,
    [property: JsonConverter(typeof(MoneyJsonConverter))] decimal TotalPrice,
    IReadOnlyList<OrderLineResponse> Items,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static OrderResponse From(Order order, Func<OrderLine, string>? productName = null) => new(
        order.Id,
        order.UserId,
        order.Status,
        order.TotalPrice,
        order.Items.Select(l => new OrderLineResponse(l.Id, l.ProductId, productName?.Invoke(l) ?? l.ProductName, l.Quantity, l.UnitPrice, l.Subtotal)).ToList(),
        order.CreatedAt,
        order.UpdatedAt);

    /// <summary>
    /// Unoptimised, each line looks its product up (the N+1 of the DRF original without <c>prefetch_related</c>),
    /// falling back to the name captured at order time for a deleted product; optimised uses the captured name.
    /// </summary>
    public static async Task<OrderResponse> FromWithLookups(IQuerySession session, Order order, bool optimize, CancellationToken ct)
    {
        if (optimize)
        {
            return From(order);
        }

        var names = new Dictionary<long, string>();
        foreach (var line in order.Items)
        {
            var product = await session.LoadAsync<Product>(line.ProductId, ct);
            names[line.Id] = product?.Name ?? line.ProductName;
        }

        return From(order, l => names[l.Id]);
    }
}
