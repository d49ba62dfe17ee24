using ExBuy.Features.Balance;
using ExBuy.Features.Catalog;
using ExBuy.Features.Coupons;
using ExBuy.Features.Inventory;
using ExBuy.Features.Users;
using ExBuy.Infrastructure.Locking;
using ExBuy.Infrastructure.Marten;
using ExBuy.Infrastructure.Observability;
using ExBuy.Infrastructure.Resilience;
using Marten;
using Wolverine.Attributes;
using Microsoft.Extensions.Options;

namespace ExBuy.Features.Orders;

public abstract record PaidOrderResult
{
    private PaidOrderResult()
    {
    }

    /// <summary>Placed now, or replayed from an earlier request with the same key.</summary>
    public sealed record Placed(long OrderId, decimal TotalAmount) : PaidOrderResult;

    /// <summary>The idempotency key was used before for a different request.</summary>
    public sealed record KeyReused(string Key) : PaidOrderResult;

    public sealed record Refused(int Status, string Message) : PaidOrderResult;

    /// <summary>The stock strategy refused (sold out, unknown product, busy).</summary>
    public sealed record StockRefused(StockOutcome Outcome) : PaidOrderResult;
}

/// <summary>
/// Places a paid order: under the user's Redis lock (orders of one user one at a time, different users in parallel),
/// <see cref="LoadAsync">load</see> → <see cref="PlacePaidOrderDecider.Decide">decide</see> →
/// <see cref="CommitAsync">commit</see> through the stock strategy, the whole attempt repeated by <see cref="WriteRetry"/>
/// when the balance or the coupon changed underneath it.
/// </summary>
// Called directly by its endpoint, not through the message bus: Wolverine must not take it for a message handler.
[WolverineIgnore]
public sealed class PlacePaidOrderHandler(
    IDocumentStore store,
    StockStrategies strategies,
    RedisLockProviders locks,
    WriteRetry retry,
    AfterCommit afterCommit,
    IOptions<ConcurrencyOptions> options,
    TimeProvider clock)
{
    public async Task<PaidOrderResult> HandleAsync(PlacePaidOrder command, CancellationToken ct)
    {
        var waitStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        Medallion.Threading.IDistributedSynchronizationHandle? userLock;
        using (RequestPhases.Measure("lock-user"))
        {
            userLock = await locks.SingleNode.CreateLock(UserLockName(command.UserId)).TryAcquireAsync(options.Value.LockTimeout, ct);
        }

        ExBuyMetrics.LockWait.WithLabels("user", userLock is null ? "false" : "true").Observe(System.Diagnostics.Stopwatch.GetElapsedTime(waitStarted).TotalSeconds);
        if (userLock is null)
        {
            return new PaidOrderResult.Refused(409, "Another order of this user is still being placed; try again.");
        }

        try
        {
            return await PlaceAsync(command, ct);
        }
        finally
        {
            await ReleaseAsync(userLock);
        }
    }

    /// <summary>
    /// The user's lock is released after the order committed, by the after-commit rule: a Redis failure then (Redis
    /// restarted, paused, refusing writes) must not turn a placed order into an error answer — a client told
    /// "unavailable" would retry and, without an Idempotency-Key, order twice. The lock expires by itself. (Found by
    /// paid-orders with --fault restart-redis: five orders committed and answered 503.)
    /// </summary>
    private Task ReleaseAsync(Medallion.Threading.IDistributedSynchronizationHandle userLock) => afterCommit.ReleaseAsync(userLock);

    private Task<PaidOrderResult> PlaceAsync(PlacePaidOrder command, CancellationToken ct) =>
        retry.RunAsync("paid_order", async token =>
        {
            var now = clock.GetUtcNow();
            var (state, order) = await LoadAsync(command, token);
            return PlacePaidOrderDecider.Decide(command, state, now) switch
            {
                PaidOrderDecision.Refuse r => new PaidOrderResult.Refused(r.Status, r.Message),
                PaidOrderDecision.Replay r => new PaidOrderResult.Placed(r.OrderId, r.TotalAmount),
                PaidOrderDecision.KeyReused r => new PaidOrderResult.KeyReused(r.Key),
                PaidOrderDecision.Place place => await CommitAsync(command, place, state.Products, order, now, token),
                var other => throw new InvalidOperationException($"Unhandled decision {other}"),
            };
        }, () => new PaidOrderResult.Refused(409, "The balance, coupon or stock kept changing; try again."), ct);

    public static string UserLockName(long userId) => $"exbuy:lock:user:{userId}";

    /// <summary>
    /// Everything the decision reads in one round trip: the user, a replay, the balance, the coupon, the prices — and, in the
    /// same round trip, the number the order will have if it is placed.
    /// </summary>
    private async Task<(PaidOrderState State, Order Order)> LoadAsync(PlacePaidOrder command, CancellationToken ct)
    {
        await using var query = store.QuerySession();
        var batch = query.CreateBatchQuery();
        var user = batch.Load<ShopUser>(command.UserId);
        var replay = command.IdempotencyId is { } key ? batch.Load<IdempotencyRecord>(key) : null;
        var balance = BalanceAccount.Load(batch, command.UserId);
        var coupon = command.CouponId is { } couponId ? CouponUse.Load(batch, couponId) : null;
        var products = batch.LoadMany<Product>().ById(command.Lines.Select(l => l.ProductId).Distinct().ToArray());
        var orders = OrderWriter.AllocateAsync(batch, store, [NewOrder(command)]);
        await batch.Execute(ct);

        var state = new PaidOrderState(
            UserExists: await user is not null,
            Replay: replay is null ? null : await replay,
            Balance: await balance,
            Coupon: coupon is null ? null : await coupon,
            Products: (await products).ToDictionary(p => p.Id));
        return (state, (await orders)[0]);
    }

    private static NewOrder NewOrder(PlacePaidOrder command) => new(command.UserId, command.Lines);

    /// <summary>
    /// The strategy takes the stock and commits, in the same transaction, the order, the debit (at the balance version
    /// the decision read), the coupon's use (at its revision) and the idempotency record.
    /// </summary>
    private async Task<PaidOrderResult> CommitAsync(
        PlacePaidOrder command, PaidOrderDecision.Place place, IReadOnlyDictionary<long, Product> products, Order order, DateTimeOffset now, CancellationToken ct)
    {
        var strategy = strategies.For(command.LockType);
        NewOrder[] newOrders = [NewOrder(command)];
        Order[] orders = [order];
        StockOutcome outcome;
        try
        {
            outcome = await strategy.TakeAsync(place.Demand, session =>
            {
                OrderWriter.Record(session, orders, newOrders, products, strategy.Type, now, paid: true);
                order.Discount = place.Discount;
                order.TotalPrice = place.Total;
                order.CouponId = place.Coupon?.Id;
                order.Paid = true;
                BalanceAccount.Debit(session, command.UserId, place.BalanceVersion, place.Total, order.Id, now);
                if (place.Coupon is { } coupon)
                {
                    CouponUse.MarkUsed(session, coupon, order.Id);
                }

                if (command.IdempotencyId is { } key)
                {
                    session.Insert(new IdempotencyRecord { Id = key, OrderId = order.Id, TotalAmount = place.Total, RequestHash = command.RequestHash, At = now });
                }
            }, ct);
        }
        catch (Exception e) when (command.IdempotencyId is not null && PostgresErrors.IsUniqueViolation(e))
        {
            throw new StaleDecisionException("Another request stored the same idempotency key.", e);
        }

        if (outcome is not StockOutcome.Taken)
        {
            return new PaidOrderResult.StockRefused(outcome);
        }

        // The sales ranking follows from the OrderPlaced event (Paid) committed above: see SalesRankingSubscription.
        return new PaidOrderResult.Placed(order.Id, place.Total);
    }
}
