using ExBuy.Infrastructure.Http;
using FastEndpoints;
using Marten;

namespace ExBuy.Features.Orders.GetOrder;

public sealed class GetOrderRequest
{
    public long Id { get; init; }
    public bool? Optimize { get; init; }
}

/// <summary><c>GET /api/orders/{id}</c> with its items.</summary>
public sealed class GetOrderEndpoint(IQuerySession session) : Endpoint<GetOrderRequest, OrderResponse>
{
    public override void Configure()
    {
        Get("/api/orders/{id:long}");
        Tags("orders");
    }

    public override async Task HandleAsync(GetOrderRequest req, CancellationToken ct)
    {
        var order = await session.LoadAsync<Order>(req.Id, ct);
        if (order is null)
        {
            await Send.ResultAsync(TypedResults.NotFound(new ErrorDetail("Not found.")));
            return;
        }

        await Send.OkAsync(await OrderResponse.FromWithLookups(session, order, req.Optimize == true, ct), ct);
    }
}
