using ExBuy.Features.Balance;
using ExBuy.Features.Catalog;
using ExBuy.Features.Coupons;
using ExBuy.Features.Inventory;

using ExBuy.Infrastructure.Http;

namespace ExBuy.Features.Orders;

/// <summary>Pay for <see cref="Lines"/> from the user's balance, optionally with a coupon, taking the stock: all or nothing.</summary>
public sealed record PlacePaidOrder(long UserId, long? CouponId, IReadOnlyList<StockLine> Lines, string? IdempotencyKey, LockType? LockType)
{
    /// <summary>The idempotency record's id: keys are per user.</summary>
    public string? IdempotencyId => string.IsNullOrEmpty(IdempotencyKey) ? null : IdempotencyRecord.KeyFor(UserId, IdempotencyKey);

    /// <summary>What a replay must match: the coupon, the lines as sent and the strategy, hashed.</summary>
    public string RequestHash => IdempotencyRecord.Hash(
        $"coupon={CouponId};lines={string.Join(",", Lines.Select(l => $"{l.ProductId}x{l.Quantity}"))};lock_type={LockType?.ToWire()}");
}

/// <summary>What the decision reads, loaded in one round trip.</summary>
public sealed record PaidOrderState(
    bool UserExists,
    IdempotencyRecord? Replay,
    UserBalance Balance,
    Coupon? Coupon,
    IReadOnlyDictionary<long, Product> Products);

public abstract record PaidOrderDecision
{
    private PaidOrderDecision()
    {
    }

    public sealed record Refuse(int Status, string Message) : PaidOrderDecision;

    /// <summary>The key was used before for the same request: answer what was answered then, charge nothing.</summary>
    public sealed record Replay(long OrderId, decimal TotalAmount) : PaidOrderDecision;

    /// <summary>The key was used before for another request: nothing is replayed and nothing is charged.</summary>
    public sealed record KeyReused(string Key) : PaidOrderDecision;

    /// <summary>
    /// Take <see cref="Demand"/> and, in the same transaction, record the order at <see cref="Total"/>, debit the balance
    /// at the version it was read at and mark the coupon used at its revision.
    /// </summary>
    public sealed record Place(
        IReadOnlyList<StockLine> Demand, decimal Total, decimal Discount, Coupon? Coupon, long BalanceVersion) : PaidOrderDecision;
}

/// <summary>The rules of a paid order, without I/O: who may order, with which coupon, for how much.</summary>
public static class PlacePaidOrderDecider
{
    public static PaidOrderDecision Decide(PlacePaidOrder command, PaidOrderState state, DateTimeOffset now)
    {
        if (!state.UserExists)
        {
            return new PaidOrderDecision.Refuse(404, $"User {command.UserId} does not exist.");
        }

        if (state.Replay is { } replay)
        {
            // Records stored before request hashes existed carry none and replay as before.
            return replay.RequestHash is null || replay.RequestHash == command.RequestHash
                ? new PaidOrderDecision.Replay(replay.OrderId, replay.TotalAmount)
                : new PaidOrderDecision.KeyReused(command.IdempotencyKey!);
        }

        if (command.CouponId is not null && CouponProblem(command.UserId, state.Coupon, now) is { } problem)
        {
            return problem;
        }

        var missing = command.Lines.Select(l => l.ProductId).Where(id => !state.Products.ContainsKey(id)).Distinct().ToList();
        if (missing.Count > 0)
        {
            return new PaidOrderDecision.Refuse(404, $"Product {string.Join(", ", missing)} not found.");
        }

        var coupon = command.CouponId is null ? null : state.Coupon;
        var total = Total(command.Lines, state.Products, coupon);
        if (state.Balance.Balance < total)
        {
            return new PaidOrderDecision.Refuse(400, $"Insufficient balance: {state.Balance.Balance} available, {total} needed.");
        }

        // A coupon worth more than the order makes it free: the discount recorded is then what the items cost.
        var discount = total == 0 ? Gross(command.Lines, state.Products) : coupon?.Discount ?? 0;
        return new PaidOrderDecision.Place(StockDecider.Demand(command.Lines), total, discount, coupon, state.Balance.Version);
    }

    /// <summary>The amount charged, exact to the cent: the lines at the products' prices, less the coupon, never below zero.</summary>
    public static decimal Total(IReadOnlyList<StockLine> lines, IReadOnlyDictionary<long, Product> products, Coupon? coupon) =>
        Money.Normalize(Math.Max(0, Gross(lines, products) - (coupon?.Discount ?? 0)));

    private static decimal Gross(IReadOnlyList<StockLine> lines, IReadOnlyDictionary<long, Product> products) =>
        lines.Sum(l => products[l.ProductId].Price * l.Quantity);

    private static PaidOrderDecision.Refuse? CouponProblem(long userId, Coupon? coupon, DateTimeOffset now) => coupon switch
    {
        null => new(400, "This coupon does not exist."),
        { UserId: var owner } when owner != userId => new(400, "This coupon belongs to another user."),
        { UsedByOrderId: not null } => new(409, "This coupon has already been used."),
        _ when coupon.ExpiresAt <= now => new(400, "This coupon has expired."),
        _ => null,
    };
}
