using Marten;
using Marten.Services.BatchQuerying;

namespace ExBuy.Features.Balance;

/// <summary>
/// What the other modules may do with a user's balance (Orders pays with it and refunds to it): read it in their own
/// batched round trip and queue a debit or a refund on their own unit of work, at the version they read, so the money
/// moves in the same transaction as the order. Only Balance appends to a balance stream.
/// </summary>
public static class BalanceAccount
{
    /// <summary>The user's balance, read in the caller's batch (a user never charged has the empty balance).</summary>
    public static async Task<UserBalance> Load(IBatchedQuery batch, long userId)
    {
        var stored = batch.Load<UserBalance>(BalanceStreams.Key(userId));
        return await stored ?? BalanceStreams.Empty(userId);
    }

    /// <summary>Queues the payment of <paramref name="orderId"/>; the commit fails if the balance moved since <paramref name="readVersion"/>.</summary>
    public static void Debit(IDocumentSession session, long userId, long readVersion, decimal amount, long orderId, DateTimeOffset at) =>
        session.Events.Append(BalanceStreams.Key(userId), readVersion + 1, new BalanceDebited(userId, amount, orderId, at));

    /// <summary>Queues the refund of <paramref name="orderId"/>; the commit fails if the balance moved since <paramref name="readVersion"/>.</summary>
    public static void Refund(IDocumentSession session, long userId, long readVersion, decimal amount, long orderId, DateTimeOffset at) =>
        session.Events.Append(BalanceStreams.Key(userId), readVersion + 1, new BalanceRefunded(userId, amount, orderId, at));
}
