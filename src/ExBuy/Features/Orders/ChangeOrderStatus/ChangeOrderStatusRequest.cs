using ExBuy.Features.Inventory;
using ExBuy.Infrastructure.Http;
using FastEndpoints;
using FluentValidation;

namespace ExBuy.Features.Orders.ChangeOrderStatus;

public sealed class ChangeOrderStatusRequest
{
    public long Id { get; init; }
    public string? Status { get; init; }

    [BindFrom(LockTypeParameter.Name)]
    public string? LockTypeName { get; init; }

    public sealed class Validator : Validator<ChangeOrderStatusRequest>
    {
        public Validator()
        {
            RuleFor(x => x.Status).NotEmpty().Must(OrderStatuses.IsValid)
                .WithMessage($"status must be one of: {string.Join(", ", OrderStatuses.All)}.");
            LockTypeParameter.AddRule(this, x => x.LockTypeName);
        }
    }
}
