using JasperFx;

namespace ExBuy.Features.Orders;

public static class OrderStatuses
{
    public const string Pending = "pending";
    public const string Processing = "processing";
    public const string Shipped = "shipped";
    public const string Delivered = "delivered";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All = [Pending, Processing, Shipped, Delivered, Cancelled];

    public static bool IsValid(string? status) => status is not null && All.Contains(status);
}

/// <summary>An order with its lines. Prices are captured at order time; the product may change or go later.</summary>
public sealed class Order : IRevisioned
{
    public long Id { get; set; }
    public long UserId { get; set; }
    public string Status { get; set; } = OrderStatuses.Pending;
    public decimal TotalPrice { get; set; }

    /// <summary>A coupon's discount on a paid shop-flow order: total = Σ subtotals − discount.</summary>
    public decimal Discount { get; set; }

    public long? CouponId { get; set; }

    /// <summary>True for shop-flow orders paid from the user's balance (exactly one <c>BalanceDebited</c> each).</summary>
    public bool Paid { get; set; }

    /// <summary>Placed through the API, so it took stock (historical seeded orders did not).</summary>
    public bool PlacedWithStock { get; set; }

    /// <summary>Its items' stock is currently taken: false after a cancellation returned it.</summary>
    public bool HoldsStock { get; set; }

    public List<OrderLine> Items { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public int Version { get; set; }

    /// <summary>Line ids are unique across orders: the order id times <see cref="MaxLines"/> plus the 1-based line number.</summary>
    public const int MaxLines = 100;

    public static long LineId(long orderId, int lineNumber) => (orderId * MaxLines) + lineNumber;
}

public sealed class OrderLine
{
    public long Id { get; set; }
    public long ProductId { get; set; }
    public string ProductName { get; set; } = string.Empty;
    public int Quantity { get; set; }
    public decimal UnitPrice { get; set; }
    public decimal Subtotal { get; set; }
}
