using ExBuy.Features.Balance;
using ExBuy.Features.Coupons;
using ExBuy.Features.Inventory;
using ExBuy.Infrastructure.Marten;
using ExBuy.Infrastructure.Resilience;
using Marten;
using Wolverine.Attributes;

namespace ExBuy.Features.Orders.ChangeOrderStatus;

public abstract record StatusResult
{
    private StatusResult()
    {
    }

    public sealed record Changed(Order Order) : StatusResult;

    public sealed record NotFound : StatusResult;

    public sealed record StockRefused(StockOutcome Outcome) : StatusResult;

    public sealed record Conflict(string Message) : StatusResult;
}

/// <summary>
/// Load the order → <see cref="ChangeOrderStatusDecider.Decide">decide</see> → commit: a move in one transaction (stock
/// given back with hand-written updates, the order at its revision, the events), a revival through the stock strategy.
/// The order's revision is checked at commit; of two concurrent changes one commits and <see cref="WriteRetry"/> runs
/// the other again against the new state.
/// </summary>
// Called directly by its endpoint, not through the message bus: Wolverine must not take it for a message handler.
[WolverineIgnore]
public sealed class ChangeOrderStatusHandler(IDocumentStore store, StockStrategies strategies, RedisStock redisStock, AfterCommit afterCommit, WriteRetry retry, TimeProvider clock)
{
    public Task<StatusResult> HandleAsync(long orderId, string status, LockType? lockType, CancellationToken ct)
    {
        var strategy = strategies.For(lockType);
        var command = new ChangeOrderStatus(orderId, status, strategy.Type);
        return retry.RunAsync("order_status", async token =>
        {
            var now = clock.GetUtcNow();
            var state = await LoadAsync(command.OrderId, token);
            var order = state.Order;
            return ChangeOrderStatusDecider.Decide(command, state, now) switch
            {
                StatusDecision.NotFound => new StatusResult.NotFound(),
                StatusDecision.Refuse refuse => new StatusResult.Conflict(refuse.Message),
                StatusDecision.Unchanged unchanged => new StatusResult.Changed(unchanged.Order),
                StatusDecision.Move move => await MoveAsync(order!, move, now, token),
                StatusDecision.Revive revive => await ReviveAsync(strategy, order!, revive, now, token),
                var other => throw new InvalidOperationException($"Unhandled decision {other}"),
            };
        }, () => new StatusResult.Conflict("The order kept changing; try again."), ct);
    }

    /// <summary>The order; for a paid one also its coupon and the user's balance (a cancellation refunds and frees them).</summary>
    private async Task<OrderState> LoadAsync(long orderId, CancellationToken ct)
    {
        await using var query = store.QuerySession();
        var order = await query.LoadAsync<Order>(orderId, ct);
        if (order is not { Paid: true })
        {
            return new OrderState(order);
        }

        var batch = query.CreateBatchQuery();
        var coupon = order.CouponId is { } couponId ? CouponUse.Load(batch, couponId) : null;
        var balance = BalanceAccount.Load(batch, order.UserId);
        await batch.Execute(ct);
        return new OrderState(order, coupon is null ? null : await coupon, await balance);
    }

    private async Task<StatusResult> MoveAsync(Order order, StatusDecision.Move move, DateTimeOffset now, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        if (move.Returned.Count > 0)
        {
            // A product deleted since the order has no stock row to return to; the event still records the items.
            ProductStock.QueueReturn(session, move.Returned);
        }

        Apply(session, order, order.Version, move.To, move.HoldsStockAfter, move.Events, now);
        if (move.Refund is { } refund)
        {
            // Exactly once: the order's revision check lets one cancellation of the order commit; a concurrent one
            // reloads, finds it cancelled and stores nothing. At the balance version read, like every balance write.
            BalanceAccount.Refund(session, refund.UserId, refund.BalanceVersion, refund.Amount, refund.OrderId, refund.At);
        }

        if (move.ReleasedCoupon is { } coupon)
        {
            CouponUse.Release(session, coupon);
        }

        await ProductStock.CommitAsync(session);
        if (move.Returned.Count > 0)
        {
            // After the commit: the cancellation stands whatever Redis does (the after-commit rule).
            await afterCommit.RunAsync("stock_return_mirror", () => redisStock.MirrorReturnedAsync(move.Returned));
        }

        return new StatusResult.Changed(order);
    }

    private static async Task<StatusResult> ReviveAsync(IStockStrategy strategy, Order order, StatusDecision.Revive revive, DateTimeOffset now, CancellationToken ct)
    {
        var version = order.Version; // read once: the strategy may run its work more than once
        var outcome = await strategy.TakeAsync(revive.Demand, session => Apply(session, order, version, revive.To, holdsStock: true, revive.Events, now), ct);
        return outcome is StockOutcome.Taken ? new StatusResult.Changed(order) : new StatusResult.StockRefused(outcome);
    }

    /// <summary>The order at its next revision and its events; safe to run once per strategy attempt.</summary>
    private static void Apply(
        IDocumentSession session, Order order, int version, string status, bool holdsStock, IReadOnlyList<object> events, DateTimeOffset now)
    {
        session.Events.Append(OrderStreams.Key(order.Id), events.ToArray());
        order.Status = status;
        order.HoldsStock = holdsStock;
        order.UpdatedAt = now;
        session.UpdateRevision(order, version + 1);
    }
}
