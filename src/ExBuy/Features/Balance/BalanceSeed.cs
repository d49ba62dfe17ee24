using ExBuy.Infrastructure.Marten;
using Marten;

namespace ExBuy.Features.Balance;

/// <summary>Balance's part of the shop-flow seed: the previous users' balances go with them (the ledger's events stay as history).</summary>
internal sealed class BalanceSeed : IModuleSeed
{
    public SeedStage Stage => SeedStage.Owners;

    public Task QueueClearAsync(ShopFlowSeed seed, IDocumentSession session, CancellationToken ct)
    {
        session.DeleteWhere<UserBalance>(_ => true);
        return Task.CompletedTask;
    }
}
