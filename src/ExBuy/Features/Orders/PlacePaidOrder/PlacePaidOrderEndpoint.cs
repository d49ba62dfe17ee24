using ExBuy.Features.Inventory;
using ExBuy.Infrastructure.Http;
using FastEndpoints;

namespace ExBuy.Features.Orders;

/// <summary>
/// <c>POST /orders</c>: pay from the balance, use the coupon, take the stock — one transaction, all or nothing
/// (<see cref="PlacePaidOrderHandler"/>; the rules are <see cref="PlacePaidOrderDecider"/>'s). An
/// <c>Idempotency-Key</c> replays the first answer and charges once.
/// </summary>
public sealed class PlacePaidOrderEndpoint(PlacePaidOrderHandler handler, Microsoft.Extensions.Options.IOptions<OrderLimitsOptions> limits) : Endpoint<PlaceShopOrderRequest, PlaceShopOrderResponse>
{
    public override void Configure()
    {
        Post("/orders");
        Tags("checkout");
    }

    public override async Task HandleAsync(PlaceShopOrderRequest req, CancellationToken ct)
    {
        foreach (var breach in ExBuy.Features.Orders.OrderLimits.Breaches(req.Lines, limits.Value))
        {
            AddError(new FluentValidation.Results.ValidationFailure("items", breach));
        }

        ThrowIfAnyErrors();
        var command = new PlacePaidOrder(
            req.UserId!.Value, req.CouponId, req.Lines, req.IdempotencyKey, LockTypeParameter.Parse(req.LockTypeName));
        var result = await handler.HandleAsync(command, ct);
        if (result is PaidOrderResult.Placed placed)
        {
            await Send.ResponseAsync(new PlaceShopOrderResponse(placed.OrderId, placed.TotalAmount), StatusCodes.Status201Created, ct);
            return;
        }

        await Send.ResultAsync(result switch
        {
            PaidOrderResult.Refused refused => ErrorMessage.Result(refused.Status, refused.Message),
            PaidOrderResult.KeyReused reused => TypedResults.Problem(
                title: "Idempotency-Key reused with a different request",
                detail: $"The Idempotency-Key '{reused.Key}' was first used for another request (coupon, items or lock_type differ); nothing was charged. Use a new key.",
                statusCode: StatusCodes.Status422UnprocessableEntity),
            // Sold out is a 409 here (the shop contract); missing products and busy locks as everywhere.
            PaidOrderResult.StockRefused stock => StockResponses.Refusal(stock.Outcome, insufficientStatus: StatusCodes.Status409Conflict),
            _ => throw new InvalidOperationException($"Unhandled result {result}"),
        });
    }
}
