using ExBuy.Features.Users;
using ExBuy.Features.Catalog;
using ExBuy.Features.Inventory;
using ExBuy.Features.Orders;
using ExBuy.Features.Balance;
using ExBuy.Features.Coupons;
using ExBuy.Features.Rankings;
using ExBuy.Infrastructure.Http;
using ExBuy.Infrastructure.Locking;
using ExBuy.Infrastructure.Marten;
using ExBuy.Infrastructure.Observability;
using FastEndpoints;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;

namespace ExBuy.Features.Checkout;

/// <summary>
/// <c>POST /orders</c>: pay from the balance, use the coupon, take the stock — one Marten transaction, all or
/// nothing. Orders of one user are serialised by a Medallion Redis lock on that user (never a global lock: seed
/// 003's 10x); stock is taken with the configured strategy. The balance debit is appended at the version the
/// balance was read at and the coupon is marked used with a revision check, so a charge or a second order that
/// slips in makes the attempt retry instead of overdrawing or double-spending. An <c>Idempotency-Key</c>
/// replays the first answer and charges once.
/// </summary>
public sealed class PlaceShopOrderEndpoint(
    IDocumentStore store,
    StockStrategies strategies,
    RedisLockProviders locks,
    IOptions<ConcurrencyOptions> options,
    IMessageBus bus,
    TimeProvider clock) : Endpoint<PlaceShopOrderRequest, PlaceShopOrderResponse>
{
    private const int MaxAttempts = 5;

    public override void Configure()
    {
        Post("/orders");
        Tags("shop-flow");
    }

    public override async Task HandleAsync(PlaceShopOrderRequest req, CancellationToken ct)
    {
        var userId = req.UserId!.Value;
        var waitStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var userLock = await locks.SingleNode.CreateLock($"exbuy:lock:user:{userId}").TryAcquireAsync(options.Value.LockTimeout, ct);
        ExBuyMetrics.LockWait.WithLabels("user", userLock is null ? "false" : "true").Observe(System.Diagnostics.Stopwatch.GetElapsedTime(waitStarted).TotalSeconds);
        if (userLock is null)
        {
            await Refuse(409, "Another order of this user is still being placed; try again.");
            return;
        }

        var idempotencyId = string.IsNullOrEmpty(req.IdempotencyKey) ? null : IdempotencyRecord.KeyFor(userId, req.IdempotencyKey);
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            try
            {
                if (await TryPlaceAsync(req, userId, idempotencyId, ct))
                {
                    return;
                }
            }
            catch (Exception e) when (ConcurrencyConflicts.IsConflict(e) || e is PriceChangedException || (idempotencyId is not null && PostgresErrors.IsUniqueViolation(e)))
            {
                // Nothing committed; the next attempt reads balance, coupon, prices and the idempotency record again.
            }
        }

        await Refuse(409, "The balance, coupon or stock kept changing; try again.");
    }

    /// <returns>False when the attempt lost a race and should be repeated.</returns>
    private async Task<bool> TryPlaceAsync(PlaceShopOrderRequest req, long userId, string? idempotencyId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        UserBalance balance;
        Coupon? coupon = null;
        Dictionary<long, Product> prices;
        await using (var query = store.QuerySession())
        {
            // Everything the decision needs in one round trip: the user, a replay, the balance, the coupon, the prices.
            // (The user is checked here, under the user's lock, rather than before it: one round trip fewer; a lock
            // on an id that turns out to be unknown costs nothing.)
            var batch = query.CreateBatchQuery();
            var userLoad = batch.Load<ShopUser>(userId);
            var replayLoad = idempotencyId is null ? null : batch.Load<IdempotencyRecord>(idempotencyId);
            var balanceLoad = batch.Load<UserBalance>(BalanceStreams.Key(userId));
            var couponLoad = req.CouponId is { } couponId ? batch.Load<Coupon>(couponId) : null;
            var productsLoad = batch.LoadMany<Product>().ById(req.Lines.Select(l => l.ProductId).Distinct().ToArray());
            await batch.Execute(ct);

            if (await userLoad is null)
            {
                await Refuse(404, $"User {userId} does not exist.");
                return true;
            }

            if (replayLoad is not null && await replayLoad is { } replay)
            {
                await Send.ResponseAsync(new PlaceShopOrderResponse(replay.OrderId, replay.TotalAmount), StatusCodes.Status201Created, ct);
                return true;
            }

            balance = await balanceLoad ?? BalanceStreams.Empty(userId);
            if (couponLoad is not null)
            {
                coupon = await couponLoad;
                var problem = coupon switch
                {
                    null => "This coupon does not exist.",
                    { UserId: var owner } when owner != userId => "This coupon belongs to another user.",
                    { UsedByOrderId: not null } => "This coupon has already been used.",
                    _ when coupon.ExpiresAt <= now => "This coupon has expired.",
                    _ => null,
                };
                if (problem is not null)
                {
                    await Refuse(coupon?.UsedByOrderId is not null ? 409 : 400, problem);
                    return true;
                }
            }

            prices = (await productsLoad).ToDictionary(p => p.Id);
        }

        var missing = req.Lines.Select(l => l.ProductId).Where(id => !prices.ContainsKey(id)).Distinct().ToList();
        if (missing.Count > 0)
        {
            await Refuse(404, $"Product {string.Join(", ", missing)} not found.");
            return true;
        }

        var total = Total(req.Lines, prices, coupon);
        if (balance.Balance < total)
        {
            await Refuse(400, $"Insufficient balance: {balance.Balance} available, {total} needed.");
            return true;
        }

        var strategy = strategies.For(LockTypeParameter.Parse(req.LockTypeName));
        NewOrder[] newOrders = [new NewOrder(userId, req.Lines)];
        var orders = await OrderWriter.AllocateAsync(store, newOrders, ct);
        var order = orders[0];

        var outcome = await strategy.TakeAsync(StockDecider.Demand(req.Lines), (session, products) =>
        {
            if (Total(req.Lines, products, coupon) != total)
            {
                throw new PriceChangedException();
            }

            OrderWriter.Record(session, orders, newOrders, products, strategy.Type, now);
            order.Discount = total == 0 ? order.TotalPrice : coupon?.Discount ?? 0;
            order.TotalPrice = total;
            order.CouponId = coupon?.Id;
            order.Paid = true;
            session.Events.Append(BalanceStreams.Key(userId), balance.Version + 1, new BalanceDebited(userId, total, order.Id, now));
            if (coupon is not null)
            {
                coupon.UsedByOrderId = order.Id;
                session.UpdateRevision(coupon, coupon.Version + 1);
            }

            if (idempotencyId is not null)
            {
                session.Insert(new IdempotencyRecord { Id = idempotencyId, OrderId = order.Id, TotalAmount = total, At = now });
            }
        }, ct);

        if (outcome is not StockOutcome.Taken)
        {
            // Sold out is a 409 here (the scenario's contract); missing products and busy locks as everywhere.
            await Send.ResultAsync(StockResponses.Refusal(outcome, insufficientStatus: StatusCodes.Status409Conflict));
            return true;
        }

        // After the commit, not inside it: the ranking is Redis, fed from an in-memory Wolverine queue (derived data).
        await bus.PublishAsync(new RecordSales(DateOnly.FromDateTime(now.UtcDateTime), req.Lines.Select(l => new SoldItem(l.ProductId, l.Quantity)).ToList()));
        await Send.ResponseAsync(new PlaceShopOrderResponse(order.Id, total), StatusCodes.Status201Created, ct);
        return true;
    }

    private static long Total(IReadOnlyList<StockLine> lines, IReadOnlyDictionary<long, Product> products, Coupon? coupon)
    {
        var gross = lines.Sum(l => (long)products[l.ProductId].Price * l.Quantity);
        return Math.Max(0, gross - (coupon?.Discount ?? 0));
    }

    private async Task Refuse(int status, string message) =>
        await Send.ResultAsync(ErrorMessage.Result(status, message));

    private sealed class PriceChangedException : Exception;
}
