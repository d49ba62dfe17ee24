using ExBuy.Features.Users;
using ExBuy.Infrastructure.Marten;
using Marten;
using Wolverine.Attributes;

namespace ExBuy.Features.Balance;

/// <summary>Add <see cref="Amount"/> to the user's balance.</summary>
public sealed record ChargeBalance(long UserId, decimal Amount);

public abstract record ChargeResult
{
    private ChargeResult()
    {
    }

    public sealed record Charged(decimal Balance) : ChargeResult;

    public sealed record Refused(int Status, string Message) : ChargeResult;
}

public static class BalanceDecider
{
    /// <summary>The event to append at <paramref name="balance"/>'s next version, or the refusal.</summary>
    public static (BalanceCharged? Charge, ChargeResult Result) Charge(ChargeBalance command, bool userExists, UserBalance balance, DateTimeOffset now) =>
        userExists
            ? (new BalanceCharged(command.UserId, command.Amount, now), new ChargeResult.Charged(balance.Balance + command.Amount))
            : (null, new ChargeResult.Refused(404, $"User {command.UserId} does not exist."));
}

/// <summary>Load the user and the balance → decide → append the charge at the version read.</summary>
// Called directly by its endpoint, not through the message bus: Wolverine must not take it for a message handler.
[WolverineIgnore]
public sealed class ChargeBalanceHandler(IDocumentStore store, WriteRetry retry, TimeProvider clock)
{
    public Task<ChargeResult> HandleAsync(ChargeBalance command, CancellationToken ct) =>
        retry.RunAsync("balance_charge", async token =>
        {
            await using var session = store.LightweightSession();
            var batch = session.CreateBatchQuery();
            var user = batch.Load<ShopUser>(command.UserId);
            var stored = batch.Load<UserBalance>(BalanceStreams.Key(command.UserId));
            await batch.Execute(token);
            var balance = await stored ?? BalanceStreams.Empty(command.UserId);

            var (charge, result) = BalanceDecider.Charge(command, await user is not null, balance, clock.GetUtcNow());
            if (charge is not null)
            {
                session.Events.Append(BalanceStreams.Key(command.UserId), balance.Version + 1, charge);
                await session.SaveChangesAsync(token);
            }

            return result;
        }, () => new ChargeResult.Refused(409, "The balance kept changing; try again."), ct);
}
