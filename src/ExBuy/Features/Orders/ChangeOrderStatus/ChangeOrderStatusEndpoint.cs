using ExBuy.Features.Inventory;
using ExBuy.Infrastructure.Http;
using FastEndpoints;

namespace ExBuy.Features.Orders.ChangeOrderStatus;

/// <summary>
/// <c>PATCH /api/orders/{id}</c>: any valid status may follow any other. Cancelling returns the stock, exactly once;
/// reviving a cancelled order takes it again with the requested strategy (400 when it is gone). The rules are
/// <see cref="ChangeOrderStatusDecider"/>'s; <see cref="ChangeOrderStatusHandler"/> loads and commits.
/// </summary>
public sealed class ChangeOrderStatusEndpoint(ChangeOrderStatusHandler handler) : Endpoint<ChangeOrderStatusRequest, OrderResponse>
{
    public override void Configure()
    {
        Patch("/api/orders/{id:long}");
        Tags("orders");
    }

    public override async Task HandleAsync(ChangeOrderStatusRequest req, CancellationToken ct)
    {
        var result = await handler.HandleAsync(req.Id, req.Status!, LockTypeParameter.Parse(req.LockTypeName), ct);
        if (result is StatusResult.Changed changed)
        {
            await Send.OkAsync(OrderResponse.From(changed.Order), ct);
            return;
        }

        await Send.ResultAsync(result switch
        {
            StatusResult.NotFound => TypedResults.NotFound(new ErrorDetail("Not found.")),
            StatusResult.StockRefused refused => StockResponses.Refusal(refused.Outcome),
            StatusResult.Conflict conflict => ErrorMessage.Result(StatusCodes.Status409Conflict, conflict.Message),
            _ => throw new InvalidOperationException($"Unhandled result {result}"),
        });
    }
}
