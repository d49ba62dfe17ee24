using System.ComponentModel.DataAnnotations;
using System.Globalization;
using ExBuy.Features.Inventory;

namespace ExBuy.Features.Orders;

/// <summary>
/// How much work one order request may ask for (bound from <c>ExBuy:Orders</c>). A line is limited to 10,000 units,
/// but 100 lines of one product took 1,000,000 units in one order, and a bulk request of 1,000 orders could name
/// 100,000 products — under <c>atomic</c> 100,000 Redis calls and one script over 100,000 keys that blocks Redis
/// for every other client.
/// </summary>
public sealed class OrderLimitsOptions
{
    public const string Section = "ExBuy:Orders";

    /// <summary>Lines one order may give to the same product.</summary>
    [Range(1, Order.MaxLines)]
    public int MaxLinesPerProduct { get; set; } = 10;

    /// <summary>Units of one product one order may take over all its lines (a line alone is limited to 10,000).</summary>
    [Range(1, 1_000_000)]
    public int MaxUnitsPerProduct { get; set; } = 10_000;

    /// <summary>Distinct products one request (a bulk request: all its orders together) may name.</summary>
    [Range(1, 100_000)]
    public int MaxDistinctProducts { get; set; } = 1_000;
}

/// <summary>
/// The checks of <see cref="OrderLimitsOptions"/>, shared by both order surfaces. They run in the endpoints (which
/// get this host's options), after the validators, whose count rules keep an oversized list from reaching them.
/// </summary>
public static class OrderLimits
{
    /// <summary>What one order's lines break: lines per product, then units per product, one message per product.</summary>
    public static IEnumerable<string> Breaches(IEnumerable<StockLine> lines, OrderLimitsOptions limits)
    {
        foreach (var product in lines.GroupBy(l => l.ProductId))
        {
            var count = product.Count();
            var units = product.Sum(l => (long)l.Quantity);
            if (count > limits.MaxLinesPerProduct)
            {
                yield return string.Create(CultureInfo.InvariantCulture,
                    $"Product {product.Key} is on {count} lines; an order gives a product at most {limits.MaxLinesPerProduct} lines (ExBuy:Orders:MaxLinesPerProduct).");
            }
            else if (units > limits.MaxUnitsPerProduct)
            {
                yield return string.Create(CultureInfo.InvariantCulture,
                    $"Product {product.Key} is ordered {units} units over its lines; an order takes at most {limits.MaxUnitsPerProduct} units of a product (ExBuy:Orders:MaxUnitsPerProduct).");
            }
        }
    }

    /// <summary>The refusal of a request naming more than <see cref="OrderLimitsOptions.MaxDistinctProducts"/> products, or null.</summary>
    public static string? TooManyProducts(IEnumerable<StockLine> lines, OrderLimitsOptions limits) =>
        lines.Select(l => l.ProductId).Distinct().Count() > limits.MaxDistinctProducts
            ? string.Create(CultureInfo.InvariantCulture,
                $"A request names at most {limits.MaxDistinctProducts} distinct products over all its orders (ExBuy:Orders:MaxDistinctProducts).")
            : null;
}
