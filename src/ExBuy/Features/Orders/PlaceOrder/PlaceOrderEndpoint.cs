using ExBuy.Features.Inventory;
using FastEndpoints;

namespace ExBuy.Features.Orders.PlaceOrder;

/// <summary>
/// <c>POST /api/orders</c>: takes the stock of every item or none with the requested strategy, and records the
/// order (price captured now) and its event in the same transaction. Status starts <c>pending</c>.
/// </summary>
public sealed class PlaceOrderEndpoint(StockStrategies strategies, TimeProvider clock) : Endpoint<PlaceOrderRequest, OrderResponse>
{
    public override void Configure()
    {
        Post("/api/orders");
        Tags("orders");
    }

    public override async Task HandleAsync(PlaceOrderRequest req, CancellationToken ct)
    {
        var strategy = strategies.For(LockTypeParameter.Parse(req.LockTypeName));
        var newOrder = req.ToNewOrder();
        Order? placed = null;

        var outcome = await strategy.TakeAsync(
            StockDecider.Demand(newOrder.Lines),
            (session, products) => placed = OrderWriter.Record(session, [newOrder], products, strategy.Type, clock.GetUtcNow())[0],
            ct);

        if (outcome is not StockOutcome.Taken)
        {
            await Send.ResultAsync(StockResponses.Refusal(outcome));
            return;
        }

        await Send.ResponseAsync(OrderResponse.From(placed!), StatusCodes.Status201Created, ct);
    }
}
