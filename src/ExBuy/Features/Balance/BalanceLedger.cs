using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Aggregation;

namespace ExBuy.Features.Balance;

public sealed record BalanceCharged(long UserId, decimal Amount, DateTimeOffset At);

public sealed record BalanceDebited(long UserId, decimal Amount, long OrderId, DateTimeOffset At);

/// <summary>A cancelled paid order's debit given back (at most one per order).</summary>
public sealed record BalanceRefunded(long UserId, decimal Amount, long OrderId, DateTimeOffset At);

/// <summary>The current balance: an inline projection of the user's ledger stream, so it commits with every append.</summary>
public sealed class UserBalance
{
    public string Id { get; set; } = string.Empty;
    public long UserId { get; set; }
    public decimal Balance { get; set; }

    /// <summary>The stream version this balance reflects; appends name it as their expected version.</summary>
    public long Version { get; set; }
}

public sealed partial class UserBalanceProjection : SingleStreamProjection<UserBalance, string>
{
    // Evolve does not tell Marten which events matter: without this filter every order and reservation
    // stream would get a (zero) balance document too.
    public UserBalanceProjection()
    {
        IncludeType<BalanceCharged>();
        IncludeType<BalanceDebited>();
        IncludeType<BalanceRefunded>();
    }

    public override UserBalance Evolve(UserBalance? snapshot, string id, IEvent e)
    {
        var balance = snapshot ?? new UserBalance { Id = id };
        switch (e.Data)
        {
            case BalanceCharged charged:
                balance.UserId = charged.UserId;
                balance.Balance += charged.Amount;
                break;
            case BalanceDebited debited:
                balance.UserId = debited.UserId;
                balance.Balance -= debited.Amount;
                break;
            case BalanceRefunded refunded:
                balance.UserId = refunded.UserId;
                balance.Balance += refunded.Amount;
                break;
        }

        balance.Version = e.Version;
        return balance;
    }
}

public static class BalanceStreams
{
    public static string Key(long userId) => $"balance-{userId}";

    public static async Task<UserBalance> CurrentAsync(IQuerySession session, long userId, CancellationToken ct) =>
        await session.LoadAsync<UserBalance>(Key(userId), ct) ?? Empty(userId);

    /// <summary>The balance of a user who was never charged (no stream yet).</summary>
    public static UserBalance Empty(long userId) => new() { Id = Key(userId), UserId = userId };

    public static void Register(StoreOptions opts)
    {
        opts.Events.AddEventType<BalanceCharged>();
        opts.Events.AddEventType<BalanceDebited>();
        opts.Events.AddEventType<BalanceRefunded>();
        opts.Projections.Add<UserBalanceProjection>(ProjectionLifecycle.Inline);
    }
}
