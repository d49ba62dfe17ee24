using ExBuy.Features.Inventory;
using FastEndpoints;
using FluentValidation;

namespace ExBuy.Features.Orders.PlaceOrder;

public sealed class OrderItemRequest
{
    public const int MaxQuantity = 10_000;

    public long? ProductId { get; init; }
    public int? Quantity { get; init; }

    public sealed class Validator : AbstractValidator<OrderItemRequest>
    {
        public Validator()
        {
            RuleFor(x => x.ProductId).NotNull().GreaterThanOrEqualTo(1);
            RuleFor(x => x.Quantity).NotNull().InclusiveBetween(1, MaxQuantity);
        }
    }
}

/// <summary>One order as the ExBuy surface takes it; also an element of a bulk request.</summary>
public class OrderRequestBody
{
    public long? UserId { get; init; }
    public List<OrderItemRequest>? Items { get; init; }

    public NewOrder ToNewOrder() =>
        new(UserId!.Value, Items!.Select(i => new StockLine(i.ProductId!.Value, i.Quantity!.Value)).ToList());

    /// <summary>
    /// The order's rules. The lines are looked at one by one only when there are at most <see cref="Order.MaxLines"/>
    /// of them: an oversized list is one error, not one per line (a 9 MB body of 300,000 lines was a 59 MB answer).
    /// </summary>
    public static void AddRules<T>(AbstractValidator<T> validator)
        where T : OrderRequestBody
    {
        validator.RuleFor(x => x.UserId).NotNull().GreaterThanOrEqualTo(1);
        validator.RuleFor(x => x.Items).NotEmpty()
            .Must(items => items is null || items.Count <= Order.MaxLines).WithMessage($"An order has at most {Order.MaxLines} items.");
        validator.RuleForEach(x => x.Items).NotNull().SetValidator(new OrderItemRequest.Validator())
            .When(x => x.Items is null || x.Items.Count <= Order.MaxLines);
    }
}

public sealed class PlaceOrderRequest : OrderRequestBody
{
    [BindFrom(LockTypeParameter.Name)]
    public string? LockTypeName { get; init; }

    public sealed class Validator : Validator<PlaceOrderRequest>
    {
        public Validator()
        {
            AddRules(this);
            LockTypeParameter.AddRule(this, x => x.LockTypeName);
        }
    }
}
