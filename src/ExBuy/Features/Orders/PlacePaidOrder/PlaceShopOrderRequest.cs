using System.Text.Json.Serialization;
using ExBuy.Features.Inventory;
using FastEndpoints;
using FluentValidation;

namespace ExBuy.Features.Orders;

public sealed class ShopOrderItem
{
    [JsonPropertyName("productId")] public long? ProductId { get; init; }
    [JsonPropertyName("quantity")] public int? Quantity { get; init; }
}

public sealed class PlaceShopOrderRequest
{
    public const int MaxQuantity = 10_000;

    [JsonPropertyName("userId")] public long? UserId { get; init; }
    [JsonPropertyName("couponId")] public long? CouponId { get; init; }
    [JsonPropertyName("items")] public List<ShopOrderItem>? Items { get; init; }

    [FromHeader("Idempotency-Key", isRequired: false)]
    public string? IdempotencyKey { get; init; }

    [BindFrom(LockTypeParameter.Name)]
    public string? LockTypeName { get; init; }

    public IReadOnlyList<StockLine> Lines => Items!.Select(i => new StockLine(i.ProductId!.Value, i.Quantity!.Value)).ToList();

    public sealed class Validator : Validator<PlaceShopOrderRequest>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).NotNull().GreaterThanOrEqualTo(1).OverridePropertyName("userId");
            RuleFor(x => x.CouponId).GreaterThanOrEqualTo(1).When(x => x.CouponId is not null).OverridePropertyName("couponId");
            RuleFor(x => x.Items).NotEmpty().Must(i => i is null || i.Count <= ExBuy.Features.Orders.Order.MaxLines).OverridePropertyName("items");
            RuleForEach(x => x.Items).NotNull().ChildRules(item =>
            {
                item.RuleFor(i => i.ProductId).NotNull().GreaterThanOrEqualTo(1).OverridePropertyName("productId");
                item.RuleFor(i => i.Quantity).NotNull().InclusiveBetween(1, MaxQuantity).OverridePropertyName("quantity");
            }).OverridePropertyName("items")
                // One by one only when the count rule passed: an oversized list is one error, not one per line.
                .When(x => x.Items is null || x.Items.Count <= ExBuy.Features.Orders.Order.MaxLines);
            RuleFor(x => x.IdempotencyKey).MaximumLength(200).OverridePropertyName("Idempotency-Key");
            LockTypeParameter.AddRule(this, x => x.LockTypeName);
        }
    }
}

/// <summary>The contract's answer; <see cref="TotalAmount"/> is exact (see <see cref="ExBuy.Infrastructure.Http.Money"/>).</summary>
public sealed record PlaceShopOrderResponse([property: JsonPropertyName("orderId")] long OrderId, [property: JsonPropertyName("totalAmount")] decimal TotalAmount);

/// <summary>The first answer to an <c>Idempotency-Key</c>, stored in the order's transaction.</summary>
public sealed class IdempotencyRecord
{
    public required string Id { get; set; }
    public long OrderId { get; set; }
    public decimal TotalAmount { get; set; }

    /// <summary>SHA-256 of the request the key was first used for (null on records stored before it was kept).</summary>
    public string? RequestHash { get; set; }
    public DateTimeOffset At { get; set; }

    public static string KeyFor(long userId, string key) => $"{userId}:{key}";

    public static string Hash(string canonicalRequest) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(canonicalRequest)));
}
