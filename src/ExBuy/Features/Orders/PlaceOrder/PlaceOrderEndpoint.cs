using ExBuy.Features.Inventory;
using FastEndpoints;
using Marten;

namespace ExBuy.Features.Orders.PlaceOrder;

/// <summary>
/// <c>POST /api/orders</c>: takes the stock of every item or none with the requested strategy, and records the
/// order (price captured now) and its event in the same transaction. Status starts <c>pending</c>.
/// </summary>
public sealed class PlaceOrderEndpoint(StockStrategies strategies, IDocumentStore store, TimeProvider clock, Microsoft.Extensions.Options.IOptions<OrderLimitsOptions> limits) : Endpoint<PlaceOrderRequest, OrderResponse>
{
    public override void Configure()
    {
        Post("/api/orders");
        Tags("orders");
    }

    public override async Task HandleAsync(PlaceOrderRequest req, CancellationToken ct)
    {
        var strategy = strategies.For(LockTypeParameter.Parse(req.LockTypeName));
        NewOrder[] newOrders = [req.ToNewOrder()];
        foreach (var breach in OrderLimits.Breaches(newOrders[0].Lines, limits.Value))
        {
            AddError(new FluentValidation.Results.ValidationFailure("items", breach));
        }

        ThrowIfAnyErrors();
        var (products, missing, orders) = await OrderWriter.PrepareAsync(store, newOrders, ct);
        if (missing.Count > 0)
        {
            await Send.ResultAsync(StockResponses.Refusal(new StockOutcome.Missing(missing)));
            return;
        }

        var outcome = await strategy.TakeAsync(
            StockDecider.Demand(newOrders[0].Lines),
            session => OrderWriter.Record(session, orders, newOrders, products, strategy.Type, clock.GetUtcNow()),
            ct);

        if (outcome is not StockOutcome.Taken)
        {
            await Send.ResultAsync(StockResponses.Refusal(outcome));
            return;
        }

        await Send.ResponseAsync(OrderResponse.From(orders[0]), StatusCodes.Status201Created, ct);
    }
}
