using ExBuy.Features.Inventory;
using ExBuy.Infrastructure.Http;
using FastEndpoints;
using FluentValidation;
using Marten;

namespace ExBuy.Features.Orders.ChangeOrderStatus;

public sealed class ChangeOrderStatusRequest
{
    public long Id { get; init; }
    public string? Status { get; init; }

    public sealed class Validator : Validator<ChangeOrderStatusRequest>
    {
        public Validator() =>
            RuleFor(x => x.Status).NotEmpty().Must(OrderStatuses.IsValid)
                .WithMessage($"status must be one of: {string.Join(", ", OrderStatuses.All)}.");
    }
}

/// <summary>
/// <c>PATCH /api/orders/{id}</c>. Cancelling puts the items' stock back, exactly once: the order's revision is
/// checked at commit, so of two concurrent cancellations one commits and the other retries, sees the order
/// cancelled, and changes nothing. A cancelled order stays cancelled (reviving it would need its stock again).
/// </summary>
public sealed class ChangeOrderStatusEndpoint(IDocumentStore store, RedisStock redisStock, TimeProvider clock)
    : Endpoint<ChangeOrderStatusRequest, OrderResponse>
{
    private const int MaxAttempts = 20;

    public override void Configure()
    {
        Patch("/api/orders/{id:long}");
        Tags("orders");
    }

    public override async Task HandleAsync(ChangeOrderStatusRequest req, CancellationToken ct)
    {
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            try
            {
                await ChangeAsync(req, ct);
                return;
            }
            catch (Exception e) when (ConcurrencyConflicts.IsConflict(e))
            {
                await Task.Delay(Random.Shared.Next(1, 10), ct);
            }
        }

        await Send.ResultAsync(ErrorMessage.Result(StatusCodes.Status409Conflict, "The order kept changing; try again."));
    }

    private async Task ChangeAsync(ChangeOrderStatusRequest req, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        await session.BeginTransactionAsync(ct);
        var order = await session.LoadAsync<Order>(req.Id, ct);
        if (order is null)
        {
            await Send.ResultAsync(TypedResults.NotFound(new ErrorDetail("Not found.")));
            return;
        }

        var status = req.Status!;
        if (order.Status == status)
        {
            await Send.OkAsync(OrderResponse.From(order), ct);
            return;
        }

        if (order.Status == OrderStatuses.Cancelled)
        {
            await Send.ResultAsync(ErrorMessage.Result(StatusCodes.Status400BadRequest, "A cancelled order cannot change status."));
            return;
        }

        var now = clock.GetUtcNow();
        var stream = OrderStreams.Key(order.Id);
        var from = order.Status;
        order.Status = status;
        order.UpdatedAt = now;
        session.UpdateRevision(order, order.Version + 1);
        session.Events.Append(stream, new OrderStatusChanged(order.Id, from, status, now));

        IReadOnlyList<StockLine> returned = [];
        if (status == OrderStatuses.Cancelled)
        {
            returned = StockDecider.Demand(order.Items.Select(l => new StockLine(l.ProductId, l.Quantity)));
            foreach (var line in returned)
            {
                // A product deleted since the order has no stock to return to; the event still records the items.
                await ProductStockSql.ReturnAsync(session, line.ProductId, line.Quantity, now, ct);
            }

            session.Events.Append(stream, new OrderCancelled(
                order.Id, order.Items.Select(l => new OrderedItem(l.ProductId, l.ProductName, l.Quantity, l.UnitPrice)).ToList(), now));
        }

        await session.SaveChangesAsync(ct);
        if (returned.Count > 0)
        {
            await redisStock.MirrorReturnedAsync(returned);
        }

        await Send.OkAsync(OrderResponse.From(order), ct);
    }
}
