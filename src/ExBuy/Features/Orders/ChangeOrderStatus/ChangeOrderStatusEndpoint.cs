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

/// <summary>
/// <c>PATCH /api/orders/{id}</c>. Any valid status may follow any other, as in the original. Cancelling puts the
/// items' stock back, exactly once; setting a cancelled order live again takes the stock again with the
/// configured strategy (refused with 400 when it is no longer there). Historical seeded orders never took stock,
/// so their status changes move none. The order's revision is checked at commit: of two concurrent changes one
/// commits and the other retries against the new state.
/// </summary>
public sealed class ChangeOrderStatusEndpoint(IDocumentStore store, StockStrategies strategies, RedisStock redisStock, TimeProvider clock)
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
        Order? order;
        await using (var query = store.QuerySession())
        {
            order = await query.LoadAsync<Order>(req.Id, ct);
        }

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

        if (order.Status == OrderStatuses.Cancelled && order.PlacedWithStock)
        {
            await ReviveAsync(order, status, LockTypeParameter.Parse(req.LockTypeName), ct);
            return;
        }

        await ChangeWithoutTakingAsync(order, status, ct);
    }

    // Status changes that take no stock: ordinary moves, cancellations (returning stock the order holds), and
    // reviving a historical order that never held any.
    private async Task ChangeWithoutTakingAsync(Order order, string status, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        await session.BeginTransactionAsync(ct);
        var now = clock.GetUtcNow();
        var stream = OrderStreams.Key(order.Id);
        var from = order.Status;
        var items = Items(order);
        IReadOnlyList<StockLine> returned = [];

        if (status == OrderStatuses.Cancelled)
        {
            if (order.HoldsStock)
            {
                returned = Demand(order);
                foreach (var line in returned)
                {
                    // A product deleted since the order has no stock to return to; the event still records the items.
                    await ProductStockSql.ReturnAsync(session, line.ProductId, line.Quantity, now, ct);
                }
            }

            order.HoldsStock = false;
            session.Events.Append(stream, new OrderCancelled(order.Id, items, ReturnedStock: returned.Count > 0, now));
        }
        else if (from == OrderStatuses.Cancelled)
        {
            session.Events.Append(stream, new OrderRevived(order.Id, status, items, TookStock: false, "none", now));
        }

        order.Status = status;
        order.UpdatedAt = now;
        session.UpdateRevision(order, order.Version + 1);
        session.Events.Append(stream, new OrderStatusChanged(order.Id, from, status, now));
        await ProductStockSql.CommitAsync(session);
        if (returned.Count > 0)
        {
            await redisStock.MirrorReturnedAsync(returned);
        }

        await Send.OkAsync(OrderResponse.From(order), ct);
    }

    private async Task ReviveAsync(Order order, string status, LockType? lockType, CancellationToken ct)
    {
        var strategy = strategies.For(lockType);
        var now = clock.GetUtcNow();
        var (from, version) = (order.Status, order.Version);
        var outcome = await strategy.TakeAsync(Demand(order), (session, _) =>
        {
            var stream = OrderStreams.Key(order.Id);
            session.Events.Append(stream, new OrderRevived(order.Id, status, Items(order), TookStock: true, strategy.Type.ToWire(), now));
            session.Events.Append(stream, new OrderStatusChanged(order.Id, from, status, now));
            order.Status = status;
            order.HoldsStock = true;
            order.UpdatedAt = now;
            session.UpdateRevision(order, version + 1);
        }, ct);

        if (outcome is not StockOutcome.Taken)
        {
            await Send.ResultAsync(StockResponses.Refusal(outcome));
            return;
        }

        await Send.OkAsync(OrderResponse.From(order), ct);
    }

    private static IReadOnlyList<StockLine> Demand(Order order) =>
        StockDecider.Demand(order.Items.Select(l => new StockLine(l.ProductId, l.Quantity)));

    private static List<OrderedItem> Items(Order order) =>
        order.Items.Select(l => new OrderedItem(l.ProductId, l.ProductName, l.Quantity, l.UnitPrice)).ToList();
}
